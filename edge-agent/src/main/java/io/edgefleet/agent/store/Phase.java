package io.edgefleet.agent.store;

/**
 * Where the update state machine stands, as persisted in {@code state.json}.
 *
 * <ul>
 *   <li>IDLE: no update in flight and the last one did not commit (or there never was one).</li>
 *   <li>STAGED: a verified candidate lies in the inactive slot, not running yet.</li>
 *   <li>ACTIVATED_UNCOMMITTED: the candidate runs, the old model is the fallback, the health window is open.</li>
 *   <li>COMMITTED: the last update passed its health window.</li>
 * </ul>
 */
public enum Phase {
    IDLE, STAGED, ACTIVATED_UNCOMMITTED, COMMITTED
}
