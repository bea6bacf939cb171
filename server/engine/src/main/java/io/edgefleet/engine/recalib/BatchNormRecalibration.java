package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-estimates the running mean and variance of every (inference-mode) BatchNormalization from what the compressed
 * model actually feeds it on the calibration data ("adaptive BatchNorm"). After pruning, a BatchNorm's input no
 * longer has the statistics it was trained with, and stale statistics shift and scale every channel downstream.
 * BatchNorms are processed in topological order, each with the statistics produced by the already corrected ones.
 */
public final class BatchNormRecalibration {
    private BatchNormRecalibration() {
    }

    public record Result(OnnxModel model, List<String> recalibrated, List<String> skipped) {
    }

    public static Result recalibrate(OnnxModel model, Dataset calibration, int maxSamples) {
        List<String> names = new ArrayList<>();
        Graph g0 = model.edit();
        for (NodeProto n : g0.topologicalOrder()) {
            if (n.getOpType().equals("BatchNormalization") && n.getDomain().isEmpty()) {
                names.add(n.getOutput(0));
            }
        }
        OnnxModel current = model;
        List<String> done = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (String out : names) {
            Graph g = current.edit();
            NodeProto bn = g.producer(out).orElseThrow();
            String label = Graph.label(bn);
            if (bn.getInputCount() < 5 || !g.isInitializer(bn.getInput(3)) || !g.isInitializer(bn.getInput(4))
                    || LinearLayer.usesOf(g, bn.getInput(3)) != 1 || LinearLayer.usesOf(g, bn.getInput(4)) != 1
                    || LinearLayer.intAttr(bn, "training_mode", 0) != 0) {
                skipped.add(label);
                continue;
            }
            String in = bn.getInput(0);
            int channels = g.initializer(bn.getInput(3)).elementCount();
            double[] sum = new double[channels];
            double[] sq = new double[channels];
            long[] count = new long[1];
            PairedCapture.run(null, List.of(), current, List.of(in), calibration, maxSamples, (first, n, ref, cand) -> {
                TensorData x = cand.get(in);
                long[] shape = x.shape();
                int inner = 1;
                for (int i = 2; i < shape.length; i++) {
                    inner *= (int) shape[i];
                }
                float[] v = x.floats();
                for (int i = 0; i < v.length; i++) {
                    int c = (i / inner) % channels;
                    sum[c] += v[i];
                    sq[c] += (double) v[i] * v[i];
                }
                count[0] += v.length / channels;
            });
            float[] mean = new float[channels];
            float[] var = new float[channels];
            for (int c = 0; c < channels; c++) {
                double m = sum[c] / count[0];
                mean[c] = (float) m;
                var[c] = (float) Math.max(0, sq[c] / count[0] - m * m);
            }
            TensorData oldMean = g.initializer(bn.getInput(3));
            TensorData oldVar = g.initializer(bn.getInput(4));
            g.setInitializer(TensorData.ofFloats(oldMean.name(), oldMean.shape(), mean));
            g.setInitializer(TensorData.ofFloats(oldVar.name(), oldVar.shape(), var));
            current = g.toModel();
            done.add(label);
        }
        return new Result(current, done, skipped);
    }
}
