package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpeedFactorsTest {
    @Test
    void parsesAndAssignsRoundRobin() {
        List<Double> f = SpeedFactors.parse("1.0, 1.5,3");
        assertEquals(List.of(1.0, 1.5, 3.0), f);
        assertEquals(1.0, SpeedFactors.forAgent(f, 0));
        assertEquals(3.0, SpeedFactors.forAgent(f, 2));
        assertEquals(1.0, SpeedFactors.forAgent(f, 3));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "fast", "0.5", "1.0,,2", "NaN", "5000"})
    void rejectsWhatIsNotAFactor(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpeedFactors.parse(spec));
        assertTrue(e.getMessage().startsWith("speed factors"), e.getMessage());
    }

    @Test
    void deviceIdsAreZeroPadded() {
        assertEquals("sim-0001", SpeedFactors.deviceId("sim", 1));
        assertEquals("lab-1234", SpeedFactors.deviceId("lab", 1234));
    }
}
