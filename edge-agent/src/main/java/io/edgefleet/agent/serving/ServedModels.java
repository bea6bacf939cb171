package io.edgefleet.agent.serving;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The slots the inference API serves, looked up by model name. Today an agent has one slot whose name
 * follows the deployed model; several models per device will register one slot each.
 */
public final class ServedModels {
    private final List<ServedModel> slots = new CopyOnWriteArrayList<>();

    public ServedModel add(ServedModel slot) {
        slots.add(slot);
        return slot;
    }

    /** The slot serving this model name right now. */
    public Optional<ServedModel> find(String name) {
        for (ServedModel s : slots) {
            if (name.equals(s.name())) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    public List<ServedModel> all() {
        return List.copyOf(slots);
    }

    /** The names served right now, for error messages. */
    public List<String> names() {
        return slots.stream().map(ServedModel::name).filter(n -> n != null).toList();
    }
}
