package io.edgefleet.engine.recalib;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.List;

/**
 * Bias correction: for each linear layer in topological order, shift its bias so the compressed model's mean output
 * per channel on the calibration data equals the float model's on the same channels. Pruning and quantization bias
 * the expected output of a layer (removed channels had a non-zero mean contribution); this is the cheapest fix and
 * the stand-in for re-estimating BatchNorm statistics when BatchNorm was folded into the convolutions.
 */
public final class BiasCorrection {
    private BiasCorrection() {
    }

    /** One layer's correction: the largest absolute shift and the mean absolute shift applied. */
    public record LayerShift(String layer, double maxShift, double meanShift) {
    }

    public record Result(OnnxModel model, List<LayerShift> layers) {
    }

    public static Result correct(OnnxModel reference, OnnxModel candidate, ChannelMap map, Dataset calibration,
            int maxSamples) {
        List<String> order = new ArrayList<>();
        for (LinearLayer l : LinearLayer.findAll(candidate)) {
            order.add(l.name());
        }
        Graph refGraph = reference.edit();
        OnnxModel current = candidate;
        List<LayerShift> shifts = new ArrayList<>();
        for (String name : order) {
            Graph g = current.edit();
            LinearLayer layer = LeastSquaresReconstruction.findLayer(g, name);
            if (layer == null || refGraph.producer(layer.output()).isEmpty()
                    || LinearLayer.usesOf(g, layer.weight()) != 1) {
                continue;
            }
            int outs = layer.outFeatures();
            double[] diff = new double[outs];
            long[] count = new long[1];
            int axis = layer.isConv() ? 1 : -1;
            PairedCapture.run(reference, List.of(layer.output()), current, List.of(layer.output()), calibration,
                    maxSamples, (first, n, ref, cand) -> {
                        TensorData r = map.select(layer.output(), ref.get(layer.output()));
                        TensorData c = cand.get(layer.output());
                        long[] shape = c.shape();
                        int ax = axis < 0 ? shape.length - 1 : axis;
                        int inner = 1;
                        for (int i = ax + 1; i < shape.length; i++) {
                            inner *= (int) shape[i];
                        }
                        float[] rv = r.floats();
                        float[] cv = c.floats();
                        for (int i = 0; i < cv.length; i++) {
                            diff[(i / inner) % outs] += rv[i] - cv[i];
                        }
                        count[0] += cv.length / outs;
                    });
            float[] bias = layer.biasVector(g);
            double max = 0;
            double mean = 0;
            for (int o = 0; o < outs; o++) {
                double d = diff[o] / Math.max(1, count[0]);
                bias[o] += (float) d;
                max = Math.max(max, Math.abs(d));
                mean += Math.abs(d) / outs;
            }
            layer.write(g, layer.weightMatrix(g), bias);
            current = g.toModel();
            shifts.add(new LayerShift(name, max, mean));
        }
        return new Result(current, shifts);
    }
}
