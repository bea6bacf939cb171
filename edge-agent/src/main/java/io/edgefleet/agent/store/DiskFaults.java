package io.edgefleet.agent.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A seam for fault injection: every write, rename and delete in the agent's data directory passes
 * through {@link #check} first. Production uses {@link #NONE}; tests install one that throws what a
 * full disk, a read-only remount or a permission change throws, which chmod cannot produce for root.
 */
@FunctionalInterface
public interface DiskFaults {
    DiskFaults NONE = (op, path) -> { };

    /** @param op "write", "move" or "delete" */
    void check(String op, Path path) throws IOException;
}
