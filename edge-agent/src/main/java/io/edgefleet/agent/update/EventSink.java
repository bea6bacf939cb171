package io.edgefleet.agent.update;

import io.edgefleet.protocol.DeviceEvent;

/** Where the update logic reports: device events, and "the installed models changed, republish the status". */
public interface EventSink {
    void event(DeviceEvent event);

    void statusChanged();
}
