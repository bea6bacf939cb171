package io.edgefleet.agent.store;

import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.Locale;

/**
 * The true reason of a failed write, for the event the server sees: a permission error is not a full
 * disk, and an operator fixes each differently (issue 13 found "STORAGE_FULL" for a permission error).
 */
public final class StorageErrors {
    private StorageErrors() {
    }

    public static ReasonCode reason(IOException e) {
        String text = text(e);
        if (e instanceof AccessDeniedException || text.contains("permission denied") || text.contains("access denied")) {
            return ReasonCode.STORAGE_DENIED;
        }
        if (text.contains("read-only file system")) {
            return ReasonCode.STORAGE_READ_ONLY;
        }
        if (text.contains("no space left") || text.contains("disk quota exceeded") || text.contains("not enough space")) {
            return ReasonCode.STORAGE_FULL;
        }
        return ReasonCode.UNKNOWN;
    }

    /** What happened, with the file, in one line. */
    public static String describe(IOException e) {
        String kind = switch (reason(e)) {
            case STORAGE_DENIED -> "permission denied";
            case STORAGE_READ_ONLY -> "read-only file system";
            case STORAGE_FULL -> "no space left";
            default -> e.getClass().getSimpleName();
        };
        String file = e instanceof FileSystemException fse && fse.getFile() != null ? " on " + fse.getFile() : "";
        return kind + file + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
    }

    private static String text(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 2000; t = t.getCause()) {
            if (t instanceof FileSystemException fse && fse.getReason() != null) {
                sb.append(fse.getReason()).append(' ');
            }
            if (t.getMessage() != null) {
                sb.append(t.getMessage()).append(' ');
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }
}
