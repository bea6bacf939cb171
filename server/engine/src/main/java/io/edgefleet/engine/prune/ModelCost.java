package io.edgefleet.engine.prune;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.eval.ModelStats;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.Tensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * What a model costs: multiply-accumulates per sample of its Conv/Gemm/MatMul layers (from shapes ONNX Runtime
 * reports for one run at batch 1), parameter counts (all and non-zero), serialized bytes and gzip bytes. The gzip
 * size is the honest measure of unstructured sparsity: dense ONNX storage does not shrink when weights become zero,
 * but artifacts travel compressed and zeros compress well.
 *
 * @param macs multiply-accumulates for one sample
 * @param macsByLayer per layer label
 */
public record ModelCost(long macs, Map<String, Long> macsByLayer, long parameters, long nonZeroParameters,
        long bytes, long gzipBytes) {

    public static ModelCost of(OnnxModel model) {
        return of(model, OrtRunner.probeShapes(model, OrtRunner.syntheticFeeds(model), OrtRunner.Options.defaults()));
    }

    /** @param shapes value shapes for one sample (batch 1), e.g. from {@link OrtRunner#probeShapes} */
    public static ModelCost of(OnnxModel model, Map<String, long[]> shapes) {
        Graph g = model.edit();
        Map<String, Long> byLayer = new LinkedHashMap<>();
        long total = 0;
        for (NodeProto n : g.nodes()) {
            long m = macs(n, shapes);
            if (m > 0) {
                byLayer.merge(Graph.label(n), m, Long::sum);
                total += m;
            }
        }
        long params = 0;
        long nonZero = 0;
        for (String name : g.initializerNames()) {
            var p = g.initializerProto(name).orElseThrow();
            long count = TensorData.countOf(Tensors.dims(p));
            params += count;
            if (TensorData.supports(Tensors.elemType(p))) {
                TensorData t = Tensors.fromProto(p);
                for (int i = 0; i < t.elementCount(); i++) {
                    if (t.getDouble(i) != 0) {
                        nonZero++;
                    }
                }
            } else {
                nonZero += count;
            }
        }
        byte[] bytes = model.toBytes();
        return new ModelCost(total, byLayer, params, nonZero, bytes.length, gzipSize(bytes));
    }

    /**
     * Multiply-accumulates of one node for the given shapes (0 for ops that are not matrix products): the same count
     * the evaluation reports ({@link ModelStats#macs}), so pruning targets and reports cannot disagree.
     */
    static long macs(NodeProto n, Map<String, long[]> shapes) {
        return ModelStats.macs(n, shapes);
    }

    public static long gzipSize(byte[] data) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream(data.length / 2 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(bos) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.size();
    }

    /** Fraction of parameters that are zero. */
    public double sparsity() {
        return parameters == 0 ? 0 : 1.0 - (double) nonZeroParameters / parameters;
    }
}
