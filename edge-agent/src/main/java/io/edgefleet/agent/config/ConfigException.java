package io.edgefleet.agent.config;

/** A configuration value is missing or wrong; the message names the key and the reason. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
