package io.edgefleet.agent.store;

/** The two model slots. The active model lives in one; the fallback (and the next update) in the other. */
public enum Slot {
    A, B;

    public Slot other() {
        return this == A ? B : A;
    }

    public String dirName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
