package io.edgefleet.server.api;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgefleet.server.device.DeviceDtos;
import io.edgefleet.server.deviceclass.DeviceClassDtos;
import io.edgefleet.server.rollout.DeploymentDtos;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.io.IOException;
import org.hibernate.validator.messageinterpolation.ParameterMessageInterpolator;

/**
 * Promise 7, fuzzed, for REST bodies: the JSON the API reads for its main writes is decoded as the
 * server decodes it (Jackson, unknown fields ignored) and validated with its bean constraints; bad
 * bytes must end as a Jackson refusal (which the API maps to 400 MALFORMED_JSON) or constraint
 * violations (400 VALIDATION_FAILED), never another exception. Size and content-type bounds come
 * first and are covered by {@link BodyLimitsTest}.
 */
class RestBodyFuzzTest {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final Validator VALIDATOR = Validation.byDefaultProvider().configure()
            .messageInterpolator(new ParameterMessageInterpolator()).buildValidatorFactory().getValidator();

    private static <T> void decodeAndValidate(byte[] data, Class<T> type) {
        T value;
        try {
            value = JSON.readValue(data, type);
        } catch (JacksonException | java.io.CharConversionException e) {
            return; // 400 MALFORMED_JSON (bytes Jackson cannot decode as UTF-8/16/32: the crash seed of #deployment)
        } catch (IOException e) {
            throw new AssertionError("reading from a byte array cannot fail with plain I/O", e);
        }
        if (value != null) {
            VALIDATOR.validate(value); // violations are 400 VALIDATION_FAILED; throwing would be a 500
        }
    }

    @FuzzTest(maxDuration = "10s")
    void deviceRegistration(byte[] data) {
        decodeAndValidate(data, DeviceDtos.RegisterDeviceRequest.class);
    }

    @FuzzTest(maxDuration = "10s")
    void deviceClass(byte[] data) {
        decodeAndValidate(data, DeviceClassDtos.DeviceClassRequest.class);
    }

    @FuzzTest(maxDuration = "10s")
    void deployment(byte[] data) {
        decodeAndValidate(data, DeploymentDtos.CreateDeploymentRequest.class);
    }
}
