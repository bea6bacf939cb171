package io.edgefleet.agent.update;

import io.edgefleet.protocol.Command;

/** What the command processor hands verified DEPLOY and ROLLBACK commands to. */
public interface Updates {
    void onDeploy(Command cmd);

    void onRollback(Command cmd);
}
