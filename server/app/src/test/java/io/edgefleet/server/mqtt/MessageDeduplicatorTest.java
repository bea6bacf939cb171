package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MessageDeduplicatorTest {

    @Test
    void repeatsAreRecognisedPerDevice() {
        MessageDeduplicator d = new MessageDeduplicator(10);
        assertTrue(d.firstTime("dev-1", "m1"));
        assertFalse(d.firstTime("dev-1", "m1"));
        assertTrue(d.firstTime("dev-2", "m1"), "the same message id from another device is another message");
    }

    @Test
    void boundedAndLeastRecentlySeenGoesFirst() {
        MessageDeduplicator d = new MessageDeduplicator(3);
        d.firstTime("d", "a");
        d.firstTime("d", "b");
        d.firstTime("d", "c");
        assertFalse(d.firstTime("d", "a"), "touching a makes b the eldest");
        d.firstTime("d", "x");
        assertEquals(3, d.size());
        assertTrue(d.firstTime("d", "b"), "b was evicted");
        assertFalse(d.firstTime("d", "a"));
    }

    @Test
    void forgettingAllowsReprocessing() {
        MessageDeduplicator d = new MessageDeduplicator(3);
        d.firstTime("d", "a");
        d.forget("d", "a");
        assertTrue(d.firstTime("d", "a"));
    }
}
