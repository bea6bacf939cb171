package io.edgefleet.server.console;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

/**
 * The alert runbooks of {@code docs/runbooks/}, packaged into the server jar at build time (see the server's
 * pom) and rendered from Markdown for the console, raw HTML in them escaped.
 */
@ApplicationScoped
public class Runbooks {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}");
    private final Parser parser = Parser.builder().extensions(List.of(TablesExtension.create())).build();
    private final HtmlRenderer renderer = HtmlRenderer.builder().extensions(List.of(TablesExtension.create()))
            .escapeHtml(true).sanitizeUrls(true).build();

    /** The runbook of an alert name (e.g. {@code EdgefleetDevicesOffline}) as HTML, empty when there is none. */
    public Optional<String> html(String alertName) {
        if (alertName == null || !NAME.matcher(alertName).matches()) {
            return Optional.empty();
        }
        try (InputStream in = Runbooks.class.getResourceAsStream("/runbooks/" + alertName + ".md")) {
            if (in == null) {
                return Optional.empty();
            }
            String md = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return Optional.of(renderer.render(parser.parse(md)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read runbook " + alertName, e);
        }
    }

    public boolean exists(String alertName) {
        return alertName != null && NAME.matcher(alertName).matches()
                && Runbooks.class.getResource("/runbooks/" + alertName + ".md") != null;
    }
}
