package io.edgefleet.server.model;

import static io.edgefleet.server.support.Api.api;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class ModelResourceTest {

    @Inject
    BlobStore blobs;

    @Test
    void uploadInspectStoreAndDownload() {
        byte[] model = DemoModels.classifier(101);
        String sha = Hashing.sha256Hex(model);
        api().contentType("application/octet-stream").body(model).post("/api/v1/models/mr-good/versions")
                .then().statusCode(201)
                .header("Location", endsWith("/api/v1/models/mr-good/versions/1"))
                .body("name", equalTo("mr-good"))
                .body("version", equalTo(1))
                .body("sha256", equalTo(sha))
                .body("size", equalTo(model.length))
                .body("irVersion", equalTo(8))
                .body("opset", equalTo(13))
                .body("producer", equalTo("edgefleet-demo 1"))
                .body("inputs[0].name", equalTo("input"))
                .body("inputs[0].elementType", equalTo("float"))
                .body("inputs[0].shape", contains("N", 64))
                .body("outputs[0].name", equalTo("probabilities"))
                .body("outputs[0].shape", contains("N", 10))
                .body("parentVersion", nullValue())
                .body("recipe", nullValue());

        // application/x-onnx is accepted too, and versions count up per name
        byte[] second = DemoModels.classifier(102);
        api().contentType("application/x-onnx").body(second).post("/api/v1/models/mr-good/versions")
                .then().statusCode(201).body("version", equalTo(2));
        api().get("/api/v1/models/mr-good/versions").then().statusCode(200).body("version", contains(1, 2));
        api().get("/api/v1/models/mr-good/versions/2").then().statusCode(200)
                .body("sha256", equalTo(Hashing.sha256Hex(second)));
        api().get("/api/v1/models").then().statusCode(200).body("name", hasItem("mr-good"))
                .body("find { it.name == 'mr-good' }.latestVersion", equalTo(2))
                .body("find { it.name == 'mr-good' }.versions", equalTo(2));

        byte[] downloaded = api().get("/api/v1/models/mr-good/versions/1/artifact").then().statusCode(200)
                .header("ETag", "\"" + sha + "\"")
                .contentType("application/octet-stream")
                .extract().asByteArray();
        assertArrayEquals(model, downloaded);
        assertEquals(true, blobs.exists(sha));
    }

    @Test
    void identicalBytesAreStoredOnce() throws Exception {
        byte[] model = DemoModels.classifier(201);
        Api.upload("mr-dedupe-a", model);
        long blobsBefore = blobs.count();
        Api.upload("mr-dedupe-b", model);
        assertEquals(blobsBefore, blobs.count(), "same content, same blob");
    }

    @Test
    void badUploadsAreRefusedAndLeaveNothingBehind() throws Exception {
        long blobsBefore = blobs.count();
        String modelsBefore = api().get("/api/v1/models").asString();

        byte[] noise = new byte[2048];
        new Random(3).nextBytes(noise);
        api().contentType("application/octet-stream").body(noise).post("/api/v1/models/mr-bad/versions")
                .then().statusCode(400).body("error", equalTo("INVALID_MODEL"))
                .body("message", startsWith("not an ONNX model"));

        byte[] good = DemoModels.classifier(301);
        byte[] truncated = Arrays.copyOf(good, good.length - 100);
        api().contentType("application/octet-stream").body(truncated).post("/api/v1/models/mr-bad/versions")
                .then().statusCode(400).body("error", equalTo("INVALID_MODEL"))
                .body("message", startsWith("not an ONNX model: the protobuf does not parse"));

        api().contentType("application/octet-stream").body(new byte[0]).post("/api/v1/models/mr-bad/versions")
                .then().statusCode(400).body("error", equalTo("INVALID_MODEL"));

        api().contentType("text/plain").body("hello").post("/api/v1/models/mr-bad/versions")
                .then().statusCode(415).body("error", equalTo("UNSUPPORTED_MEDIA_TYPE"));
        api().contentType("application/json").body("{}").post("/api/v1/models/mr-bad/versions")
                .then().statusCode(415);

        // %test sets edgefleet.models.max-upload-bytes to 256 KiB
        byte[] big = new byte[300 * 1024];
        api().contentType("application/octet-stream").body(big).post("/api/v1/models/mr-bad/versions")
                .then().statusCode(413).body("error", equalTo("PAYLOAD_TOO_LARGE"))
                .body("message", equalTo("the upload is 307200 bytes; the limit is 262144 bytes"
                        + " (edgefleet.models.max-upload-bytes)"));

        api().contentType("application/octet-stream").body(good).post("/api/v1/models/bad name/versions")
                .then().statusCode(400).body("error", equalTo("INVALID_ID"));

        api().get("/api/v1/models/mr-bad/versions").then().statusCode(404)
                .body("message", equalTo("model 'mr-bad' does not exist"));
        assertEquals(modelsBefore, api().get("/api/v1/models").asString());
        assertEquals(blobsBefore, blobs.count());
        assertEquals(0, blobs.tempCount(), "no staged upload is left behind");
    }

    @Test
    void unknownVersionsAre404() {
        Api.upload("mr-404", DemoModels.classifier(401));
        api().get("/api/v1/models/mr-404/versions/9").then().statusCode(404)
                .body("message", equalTo("model version 'mr-404:9' does not exist"));
        api().get("/api/v1/models/mr-404/versions/9/artifact").then().statusCode(404);
        api().get("/api/v1/models/mr-404/versions/one").then().statusCode(404);
        List<Integer> versions = api().get("/api/v1/models/mr-404/versions").jsonPath().getList("version");
        assertEquals(List.of(1), versions);
    }
}
