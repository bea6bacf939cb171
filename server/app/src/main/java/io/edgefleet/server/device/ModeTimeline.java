package io.edgefleet.server.device;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time per degradation mode of each model of a device over a window, from its {@code MODE_CHANGED} events
 * (docs/degradation.md). An event's detail reads {@code "<from> -> <to>: <why>"}; its {@code ts} (the device's clock)
 * is when the switch happened. Within the window a model is in the mode of the last switch before that instant. Before
 * its first switch a model was in that switch's {@code from} mode (the agent only ever reports a change); a model with
 * no switch at or before the window's end is not listed: the events cannot tell its mode. An event whose detail does
 * not have that shape is skipped and counted.
 */
public final class ModeTimeline {
    private static final Pattern DETAIL = Pattern.compile("^\\s*([a-z]+)\\s*->\\s*([a-z]+)\\s*(?::.*)?$", Pattern.DOTALL);

    private ModeTimeline() {
    }

    /** One switch: model name, device time, from and to mode. */
    public record Switch(String model, long ts, String from, String to) {
    }

    /**
     * One model's time in each mode over the window, in milliseconds (modes in order of first appearance), how many
     * switches fell inside the window and the mode at its end.
     */
    public record ModelModes(String model, Map<String, Long> millis, int switches, String modeAtEnd) {
    }

    /** A switch read from an event's detail, or null when the detail is not {@code "<from> -> <to>[: why]"}. */
    public static Switch parse(String model, long ts, String detail) {
        if (model == null || detail == null) {
            return null;
        }
        Matcher m = DETAIL.matcher(detail);
        return m.matches() ? new Switch(model, ts, m.group(1), m.group(2)) : null;
    }

    /**
     * Time per mode over {@code [from, to)} for every model with a switch at or before {@code to}. {@code switches} may
     * come in any order and include switches before the window (they give the mode at its start) or after it (ignored).
     */
    public static List<ModelModes> over(List<Switch> switches, long from, long to) {
        if (to < from) {
            throw new IllegalArgumentException("the window ends (" + to + ") before it starts (" + from + ")");
        }
        Map<String, List<Switch>> byModel = new TreeMap<>();
        for (Switch s : switches) {
            if (s.ts() <= to) {
                byModel.computeIfAbsent(s.model(), k -> new ArrayList<>()).add(s);
            }
        }
        List<ModelModes> out = new ArrayList<>();
        for (Map.Entry<String, List<Switch>> e : byModel.entrySet()) {
            List<Switch> list = e.getValue();
            list.sort(Comparator.comparingLong(Switch::ts));
            Map<String, Long> millis = new LinkedHashMap<>();
            String mode = list.get(0).from();
            long at = from;
            int inside = 0;
            for (Switch s : list) {
                if (s.ts() <= from) {
                    mode = s.to();
                    continue;
                }
                millis.merge(mode, s.ts() - at, Long::sum);
                mode = s.to();
                at = s.ts();
                inside++;
            }
            millis.merge(mode, to - at, Long::sum);
            millis.values().removeIf(v -> v == 0);
            out.add(new ModelModes(e.getKey(), millis, inside, mode));
        }
        return out;
    }
}
