package io.edgefleet.agent.testing;

import io.edgefleet.agent.update.EventSink;
import io.edgefleet.protocol.DeviceEvent;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Collects the events the update logic reports. */
public final class RecordingSink implements EventSink {
    public final List<DeviceEvent> events = new CopyOnWriteArrayList<>();
    public final AtomicInteger statusChanges = new AtomicInteger();

    @Override
    public void event(DeviceEvent event) {
        event.validate();
        events.add(event);
    }

    @Override
    public void statusChanged() {
        statusChanges.incrementAndGet();
    }

    public List<DeviceEvent.Type> types() {
        return events.stream().map(DeviceEvent::type).toList();
    }

    public DeviceEvent last() {
        return events.get(events.size() - 1);
    }

    public DeviceEvent lastOf(DeviceEvent.Type type) {
        for (int i = events.size() - 1; i >= 0; i--) {
            if (events.get(i).type() == type) {
                return events.get(i);
            }
        }
        throw new AssertionError("no " + type + " event in " + types());
    }

    public void clear() {
        events.clear();
    }
}
