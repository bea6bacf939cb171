package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import org.junit.jupiter.api.Test;

class StorageErrorsTest {
    @Test
    void eachFailureIsNamedForWhatItIs() {
        assertEquals(ReasonCode.STORAGE_DENIED, StorageErrors.reason(new AccessDeniedException("/data/slots/b/download.part")));
        assertEquals(ReasonCode.STORAGE_READ_ONLY,
                StorageErrors.reason(new FileSystemException("/data/state.json", null, "Read-only file system")));
        assertEquals(ReasonCode.STORAGE_FULL, StorageErrors.reason(new IOException("No space left on device")));
        assertEquals(ReasonCode.STORAGE_FULL, StorageErrors.reason(new IOException("Disk quota exceeded")));
        assertEquals(ReasonCode.UNKNOWN, StorageErrors.reason(new IOException("Input/output error")));
        String d = StorageErrors.describe(new AccessDeniedException("/data/slots/b/download.part"));
        assertTrue(d.startsWith("permission denied on /data/slots/b/download.part"), d);
    }
}
