package io.edgefleet.server.device;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

/** Whether an event (device, message id) is already stored: a redelivered event is a duplicate, not a second row. */
@ApplicationScoped
public class DeviceEventLookup {
    @Inject
    Session session;

    @Transactional
    public boolean exists(String deviceId, String messageId) {
        return !session.createSelectionQuery(
                        "select 1 from DeviceEventEntity e where e.deviceId = :d and e.messageId = :m", Integer.class)
                .setParameter("d", deviceId).setParameter("m", messageId).setMaxResults(1).getResultList().isEmpty();
    }
}
