package io.edgefleet.engine.prune;

import java.util.List;

/**
 * A set of channels that must be pruned together: every producer layer writing them, every value carrying them
 * (through activations, BatchNorm, residual Add/Mul, Concat, pooling, reshapes), every consumer layer reading them.
 * Removing channel {@code c} of the group removes weight row {@code c} of each producer, the matching parameters of
 * each per-channel op and the matching input columns of each consumer.
 *
 * @param id stable within one analysis; the key for keep-sets
 * @param channels channels in the group
 * @param blocks the channels form this many equal blocks that must lose the same number of channels each (grouped
 *     convolutions); 1 when unconstrained
 * @param producers labels of the layers whose output rows define the channels
 * @param consumers labels of the layers reading them as input features
 * @param values names of the graph values that carry the channels
 * @param reasons why the group must stay whole; empty when it can be pruned
 */
public record ChannelGroup(int id, int channels, int blocks, List<String> producers, List<String> consumers,
        List<String> values, List<String> reasons) {

    public ChannelGroup {
        producers = List.copyOf(producers);
        consumers = List.copyOf(consumers);
        values = List.copyOf(values);
        reasons = List.copyOf(reasons);
    }

    public boolean prunable() {
        return reasons.isEmpty() && channels > 1;
    }

    /** Short readable name: the producers, e.g. {@code G2[/b1/c1/Conv]}. */
    public String label() {
        return "G" + id + producers;
    }

    @Override
    public String toString() {
        return label() + " " + channels + " ch" + (blocks > 1 ? " in " + blocks + " blocks" : "")
                + (reasons.isEmpty() ? "" : " kept whole: " + String.join("; ", reasons));
    }
}
