package io.edgefleet.agent.serving;

import io.edgefleet.agent.inference.CpuTime;
import io.edgefleet.agent.inference.ElementType;
import io.edgefleet.agent.inference.InferenceListener;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.Observations;
import io.edgefleet.agent.inference.Tensor;
import io.edgefleet.agent.inference.TensorSpec;
import io.edgefleet.protocol.ModelRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * The in-process inference API with the semantics of the Open Inference Protocol (KServe v2): models
 * by name, their metadata and readiness, and inference on JSON-shaped tensors. The HTTP adapter
 * ({@link InferenceHttpServer}) is a thin layer over this class; JVM applications that embed the agent
 * call it directly ({@code agent.inference()}).
 *
 * <p>Every request runs on the model's active slot under a {@link ServedModel.Lease}, so updates never
 * fail a request. Requests are checked against the model's declared inputs before they run; only
 * failures of the runtime itself count as inference errors in telemetry (a client's malformed request
 * must not roll back a healthy model). Successful inferences record their latency (tensor conversion
 * and the run, not JSON or HTTP) with the same listener as the built-in loop.
 */
public final class InferenceService {
    private final ServedModels models;
    private final InferenceListener listener;
    private final double speedFactor;
    private volatile boolean stopped;

    /**
     * @param listener    receives every inference outcome (the telemetry window recorder)
     * @param speedFactor the agent's emulated slow-down, applied as in the inference loop (1 = none)
     */
    public InferenceService(ServedModels models, InferenceListener listener, double speedFactor) {
        this.models = models;
        this.listener = listener;
        this.speedFactor = speedFactor;
    }

    /** Server liveness: true until the agent stops. */
    public boolean live() {
        return !stopped;
    }

    /** Server readiness: at least one model, and every known model loaded. */
    public boolean ready() {
        return notReadyReason() == null;
    }

    /** Why the server is not ready, or null when it is. */
    public String notReadyReason() {
        if (stopped) {
            return "the agent is stopping";
        }
        boolean any = false;
        for (ServedModel s : models.all()) {
            try (ServedModel.Lease l = s.lease()) {
                if (l.ref() == null) {
                    continue;
                }
                if (l.model() == null) {
                    return "model '" + l.ref().model() + "' is not ready: " + l.notReadyReason();
                }
                any = true;
            }
        }
        return any ? null : "no model is deployed on this device yet";
    }

    /** Whether this model is served and ready; false also when it is unknown. */
    public boolean isReady(String name) {
        try {
            return modelReady(name, null);
        } catch (ServingException e) {
            return false;
        }
    }

    /**
     * Readiness of one model (and version, when not null).
     *
     * @throws ServingException MODEL_NOT_FOUND when this device does not serve it
     */
    public boolean modelReady(String name, String version) throws ServingException {
        try (ServedModel.Lease l = lease(name)) {
            checkVersion(name, version, l.ref());
            return l.model() != null && !stopped;
        }
    }

    public ModelMetadata modelMetadata(String name) throws ServingException {
        return modelMetadata(name, null);
    }

    /** The model's metadata; MODEL_NOT_FOUND when unknown, MODEL_NOT_READY when known but not loaded. */
    public ModelMetadata modelMetadata(String name, String version) throws ServingException {
        try (ServedModel.Lease l = lease(name)) {
            checkVersion(name, version, l.ref());
            LoadedModel m = ready(name, l);
            return new ModelMetadata(l.ref().model(), List.of(Long.toString(l.ref().version())), ModelMetadata.PLATFORM,
                    metadata(m.inputs()), metadata(m.outputs()));
        }
    }

    public InferResponse infer(String name, InferRequest request) throws ServingException {
        return infer(name, null, request);
    }

    /**
     * Runs one request on the active slot of {@code name}. {@code version} (nullable) pins a version:
     * a request for another version than the active one is MODEL_NOT_FOUND.
     *
     * @throws ServingException BAD_REQUEST for inputs that do not fit the model, MODEL_NOT_FOUND,
     *                          MODEL_NOT_READY, INFERENCE_FAILED when the runtime fails
     */
    public InferResponse infer(String name, String version, InferRequest request) throws ServingException {
        try (ServedModel.Lease l = lease(name)) {
            ModelRef ref = l.ref();
            checkVersion(name, version, ref);
            LoadedModel m = ready(name, l);
            Map<String, Tensor> inputs = inputs(m.inputs(), request.inputs());
            List<String> outputNames = outputs(m.outputs(), request.outputs());
            Map<String, Tensor> out = run(m, inputs, outputNames, l.listener() != null ? l.listener() : listener);
            List<InferOutput> outputs = new ArrayList<>(out.size());
            out.forEach((n, t) -> outputs.add(new InferOutput(n, t.shape(), Datatype.of(t.type()), t.values())));
            return new InferResponse(ref.model(), Long.toString(ref.version()), request.id(), outputs);
        }
    }

    /** Refuses new requests from now on (the agent is stopping); requests in flight finish. */
    public void stop() {
        stopped = true;
    }

    private Map<String, Tensor> run(LoadedModel m, Map<String, Tensor> inputs, List<String> outputNames,
                                    InferenceListener listener) throws ServingException {
        long start = System.nanoTime();
        long cpuStart = CpuTime.currentThread();
        try {
            Map<String, Tensor> out = m.run(inputs, outputNames);
            long cpu = CpuTime.currentThread() - cpuStart;
            if (speedFactor > 1.0) {
                // Same emulation of a slower board as the inference loop: the inference takes factor x as long.
                LockSupport.parkNanos(this, (long) ((speedFactor - 1.0) * (System.nanoTime() - start)));
            }
            // Same accounting as the loop: latency, the CPU time the energy model needs, and what the call saw for drift.
            listener.onInference(System.nanoTime() - start, cpu, Observations.of(inputs, out));
            return out;
        } catch (Exception | LinkageError e) {
            listener.onError(e);
            throw new ServingException(ServingError.INFERENCE_FAILED, "inference failed: " + firstLine(e.getMessage()), e);
        }
    }

    private ServedModel.Lease lease(String name) throws ServingException {
        if (name == null || name.isEmpty()) {
            throw new ServingException(ServingError.MODEL_NOT_FOUND, "no model name given");
        }
        ServedModel slot = models.find(name).orElseThrow(() -> notFound(name));
        ServedModel.Lease l = slot.lease();
        if (l.ref() == null || !name.equals(l.ref().model())) {
            // Replaced by a model of another name between the lookup and the lease.
            l.close();
            throw notFound(name);
        }
        return l;
    }

    private ServingException notFound(String name) {
        List<String> names = models.names();
        return new ServingException(ServingError.MODEL_NOT_FOUND, "model '" + name + "' is not served on this device; "
                + (names.isEmpty() ? "no model is deployed yet" : "it serves " + names));
    }

    private static void checkVersion(String name, String version, ModelRef ref) throws ServingException {
        if (version != null && !version.equals(Long.toString(ref.version()))) {
            throw new ServingException(ServingError.MODEL_NOT_FOUND, "version " + version + " of model '" + name
                    + "' is not served on this device; the active version is " + ref.version());
        }
    }

    private LoadedModel ready(String name, ServedModel.Lease l) throws ServingException {
        if (stopped) {
            throw new ServingException(ServingError.MODEL_NOT_READY, "model '" + name + "' is not ready: the agent is stopping");
        }
        if (l.model() == null) {
            throw new ServingException(ServingError.MODEL_NOT_READY, "model '" + name + "' is not ready: " + l.notReadyReason());
        }
        return l.model();
    }

    private static List<ModelMetadata.TensorMetadata> metadata(List<TensorSpec> specs) {
        List<ModelMetadata.TensorMetadata> out = new ArrayList<>(specs.size());
        for (TensorSpec s : specs) {
            out.add(new ModelMetadata.TensorMetadata(s.name(), Datatype.protocolName(s.type(), s.typeName()), s.shape()));
        }
        return out;
    }

    /** Checks the request's inputs against the model's: names, datatypes, shapes, value counts. */
    static Map<String, Tensor> inputs(List<TensorSpec> specs, List<InferInput> given) throws ServingException {
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        specs.forEach(s -> byName.put(s.name(), s));
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (InferInput in : given) {
            TensorSpec spec = byName.get(in.name());
            if (spec == null) {
                throw bad("unexpected input '" + in.name() + "'; the model's inputs are " + byName.keySet());
            }
            if (out.containsKey(in.name())) {
                throw bad("input '" + in.name() + "' is given twice");
            }
            if (spec.type() == ElementType.OTHER) {
                throw bad("input '" + in.name() + "' has datatype " + Datatype.protocolName(spec.type(), spec.typeName())
                        + ", which this API does not accept (supported: " + Datatype.supported() + ")");
            }
            Datatype want = Datatype.of(spec.type());
            if (in.datatype() != want) {
                throw bad("input '" + in.name() + "' has datatype " + in.datatype() + " but the model expects " + want);
            }
            if (in.data().getClass() != want.elementType().arrayClass()) {
                throw bad("input '" + in.name() + "': " + want + " data must be a "
                        + want.elementType().arrayClass().getSimpleName() + ", not a " + in.data().getClass().getSimpleName());
            }
            long[] shape = in.shape();
            long[] declared = spec.shape();
            if (shape.length != declared.length) {
                throw bad("input '" + in.name() + "' has shape " + Arrays.toString(shape) + " but the model expects "
                        + declared.length + " dimensions " + Arrays.toString(declared));
            }
            for (int i = 0; i < shape.length; i++) {
                boolean fits = declared[i] < 0 ? shape[i] > 0 : shape[i] == declared[i];
                if (!fits) {
                    throw bad("input '" + in.name() + "' has shape " + Arrays.toString(shape) + " but the model expects "
                            + Arrays.toString(declared) + " (-1 = any positive size); dimension " + i + " does not fit");
                }
            }
            long count = Tensor.elementCount(shape);
            if (count != in.size()) {
                throw bad("input '" + in.name() + "' has " + in.size() + " values but shape " + Arrays.toString(shape)
                        + " needs " + (count < 0 ? "more than fits in memory" : Long.toString(count)));
            }
            out.put(in.name(), new Tensor(want.elementType(), shape, in.data()));
        }
        if (out.size() < byName.size()) {
            List<String> missing = byName.keySet().stream().filter(n -> !out.containsKey(n)).toList();
            throw bad("missing input" + (missing.size() > 1 ? "s " : " ") + missing + "; the model's inputs are "
                    + byName.keySet());
        }
        return out;
    }

    /** The outputs to return: the ones asked for, or every output the API can return. */
    static List<String> outputs(List<TensorSpec> specs, List<String> asked) throws ServingException {
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        specs.forEach(s -> byName.put(s.name(), s));
        if (asked.isEmpty()) {
            List<String> all = specs.stream().filter(s -> s.type() != ElementType.OTHER).map(TensorSpec::name).toList();
            if (all.isEmpty()) {
                throw bad("the model has no outputs this API can return: " + specs);
            }
            return all;
        }
        Set<String> out = new LinkedHashSet<>();
        for (String n : asked) {
            TensorSpec s = byName.get(n);
            if (s == null) {
                throw bad("unknown output '" + n + "'; the model's outputs are " + byName.keySet());
            }
            if (s.type() == ElementType.OTHER) {
                throw bad("output '" + n + "' has datatype " + Datatype.protocolName(s.type(), s.typeName())
                        + ", which this API cannot return");
            }
            out.add(n);
        }
        return List.copyOf(out);
    }

    private static ServingException bad(String reason) {
        return new ServingException(ServingError.BAD_REQUEST, reason);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "no message";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
