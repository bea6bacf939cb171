package io.edgefleet.agent.inference;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A skewed class distribution for a labelled input stream (the simulator's class-mix drift): the share of
 * samples each listed class gets, the rest split evenly over the classes of the data that are not listed.
 * Written {@code 0=0.7,3=0.2}: class 0 gets 70% of the samples, class 3 20%, every other class of the data
 * an equal part of the remaining 10%.
 */
public record ClassMix(Map<Long, Double> shares) {
    private static final double SLACK = 1e-9;

    public ClassMix {
        if (shares == null || shares.isEmpty()) {
            throw new IllegalArgumentException("class mix: name at least one class, e.g. 0=0.7");
        }
        double sum = 0;
        for (Map.Entry<Long, Double> e : shares.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0) {
                throw new IllegalArgumentException("class mix: class ids must be >= 0, not " + e.getKey());
            }
            double s = e.getValue() == null ? Double.NaN : e.getValue();
            if (!(s >= 0 && s <= 1)) {
                throw new IllegalArgumentException("class mix: the share of class " + e.getKey() + " must be in [0, 1], not "
                        + e.getValue());
            }
            sum += s;
        }
        if (sum > 1 + SLACK) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "class mix: the shares add up to %.3f, more than 1",
                    sum));
        }
        shares = Collections.unmodifiableMap(new TreeMap<>(shares));
    }

    /** Parses {@code 0=0.7,3=0.2}; throws IllegalArgumentException naming what is wrong. */
    public static ClassMix parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("class mix: name at least one class, e.g. 0=0.7");
        }
        Map<Long, Double> out = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException("class mix: '" + p + "' is not CLASS=SHARE (e.g. 0=0.7)");
            }
            long cls;
            double share;
            try {
                cls = Long.parseLong(p.substring(0, eq).trim());
                share = Double.parseDouble(p.substring(eq + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("class mix: '" + p + "' is not CLASS=SHARE with an integer class and a"
                        + " number share");
            }
            if (out.put(cls, share) != null) {
                throw new IllegalArgumentException("class mix: class " + cls + " is given twice");
            }
        }
        return new ClassMix(out);
    }

    /**
     * The probability of each class present in the data ({@code present}, ascending class ids): a listed class
     * gets its share, the unlisted ones split the rest evenly. A listed class the data does not have gets nothing
     * (its share goes to the others by normalisation); when nothing is left at all, the mix is uniform.
     */
    public double[] probabilities(long[] present) {
        double[] p = new double[present.length];
        int unlisted = 0;
        for (int i = 0; i < present.length; i++) {
            Double s = shares.get(present[i]);
            if (s != null) {
                p[i] = s;
            } else {
                unlisted++;
            }
        }
        double rest = Math.max(0, 1 - shares.values().stream().mapToDouble(Double::doubleValue).sum());
        for (int i = 0; i < present.length; i++) {
            if (!shares.containsKey(present[i])) {
                p[i] = rest / unlisted;
            }
        }
        double sum = 0;
        for (double v : p) {
            sum += v;
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = sum > 0 ? p[i] / sum : 1.0 / p.length;
        }
        return p;
    }

    /** Index into {@code probabilities} drawn with {@code random}. */
    static int draw(double[] probabilities, SplittableRandom random) {
        double u = random.nextDouble();
        double acc = 0;
        for (int i = 0; i < probabilities.length; i++) {
            acc += probabilities[i];
            if (u < acc) {
                return i;
            }
        }
        for (int i = probabilities.length - 1; i >= 0; i--) {
            if (probabilities[i] > 0) {
                return i;
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        shares.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }
}
