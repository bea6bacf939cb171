package io.edgefleet.engine.prune;

import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Latency of several models measured in the same process, one intra-op thread each, with the runs interleaved
 * round by round: on a shared machine, load that comes and goes then hits every model alike instead of whichever
 * happened to be measured at the time.
 */
public final class LatencyProbe {
    private LatencyProbe() {
    }

    /** Median and 90th percentile of one model's runs, in milliseconds. */
    public record Stats(double medianMs, double p90Ms, int runs) {
    }

    /**
     * @param feeds inputs of one run (the batch size is theirs)
     * @param warmup untimed runs per model first
     * @param rounds rounds; each round runs every model {@code perRound} times
     */
    public static List<Stats> compare(List<OnnxModel> models, Map<String, TensorData> feeds, int warmup, int rounds,
            int perRound) {
        List<OrtRunner> runners = new ArrayList<>();
        List<OrtRunner.Prepared> prepared = new ArrayList<>();
        try {
            for (OnnxModel m : models) {
                OrtRunner r = OrtRunner.open(m, OrtRunner.Options.defaults());
                runners.add(r);
                prepared.add(r.prepare(feeds));
            }
            for (int i = 0; i < models.size(); i++) {
                for (int w = 0; w < warmup; w++) {
                    runners.get(i).runPrepared(prepared.get(i));
                }
            }
            long[][] times = new long[models.size()][rounds * perRound];
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < models.size(); i++) {
                    for (int k = 0; k < perRound; k++) {
                        long t0 = System.nanoTime();
                        runners.get(i).runPrepared(prepared.get(i));
                        times[i][round * perRound + k] = System.nanoTime() - t0;
                    }
                }
            }
            List<Stats> out = new ArrayList<>();
            for (long[] t : times) {
                long[] s = t.clone();
                Arrays.sort(s);
                out.add(new Stats(s[s.length / 2] / 1e6, s[(int) Math.min(s.length - 1, Math.round(s.length * 0.9))] / 1e6,
                        s.length));
            }
            return out;
        } finally {
            prepared.forEach(OrtRunner.Prepared::close);
            runners.forEach(OrtRunner::close);
        }
    }

    public static Stats measure(OnnxModel model, Map<String, TensorData> feeds, int warmup, int runs) {
        return compare(List.of(model), feeds, warmup, 1, runs).get(0);
    }
}
