package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * All recipes by name: the built-in {@code identity} baseline, whatever {@link RecipeProvider}s the class path offers,
 * and anything {@link #register}ed at run time. Process-wide and thread-safe.
 */
public final class RecipeRegistry {
    public static final String IDENTITY = "identity";

    private static final Map<String, Recipe> RECIPES = new TreeMap<>();
    private static final Map<String, Recipe> BUILT_IN = new TreeMap<>();
    private static final List<String> LOAD_PROBLEMS = new ArrayList<>();
    private static boolean loaded;

    private RecipeRegistry() {
    }

    /** The float model unchanged: a baseline report (size, MACs, latency, accuracy), not a compression. */
    public static Recipe identity() {
        Pass unchanged = new Pass() {
            @Override
            public String name() {
                return "unchanged";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext context) {
                context.note("identity recipe: the model is left as it is; this report is a float baseline");
                return model;
            }
        };
        return new Recipe(IDENTITY, "No change: reports on the float model itself as a baseline. Not a compression.",
                Recipe.Kind.BASELINE, List.of(unchanged), List.of(), false);
    }

    private static synchronized void ensureLoaded() {
        if (loaded) {
            return;
        }
        loaded = true;
        RECIPES.putIfAbsent(IDENTITY, identity());
        Iterator<RecipeProvider> it = ServiceLoader.load(RecipeProvider.class, RecipeRegistry.class.getClassLoader())
                .iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                for (Recipe r : it.next().recipes()) {
                    RECIPES.putIfAbsent(r.name(), r);
                }
            } catch (ServiceConfigurationError | RuntimeException e) {
                // A provider listed but not (yet) on the class path must not take the built-ins down with it.
                LOAD_PROBLEMS.add(String.valueOf(e.getMessage()));
            }
        }
        BUILT_IN.putAll(RECIPES);
    }

    /** Adds or replaces a recipe. */
    public static synchronized void register(Recipe recipe) {
        ensureLoaded();
        RECIPES.put(recipe.name(), recipe);
    }

    /**
     * The recipe with that name.
     *
     * @throws BadInputException naming the known recipes when there is none
     */
    public static synchronized Recipe get(String name) {
        ensureLoaded();
        Recipe r = RECIPES.get(name);
        if (r == null) {
            throw new BadInputException("unknown recipe '" + name + "'; known recipes: " + String.join(", ",
                    RECIPES.keySet()));
        }
        return r;
    }

    public static synchronized boolean contains(String name) {
        ensureLoaded();
        return RECIPES.containsKey(name);
    }

    /** Recipes sorted by name. */
    public static synchronized List<Recipe> all() {
        ensureLoaded();
        return List.copyOf(RECIPES.values());
    }

    /**
     * The recipes that ship, sorted by name: {@code identity} and the providers', without what was
     * {@link #register}ed at run time (for documentation and the recipe contract tests).
     */
    public static synchronized List<Recipe> builtIn() {
        ensureLoaded();
        return List.copyOf(BUILT_IN.values());
    }

    /** Providers that were listed but could not be loaded (for diagnostics). */
    public static synchronized List<String> loadProblems() {
        ensureLoaded();
        return Collections.unmodifiableList(new ArrayList<>(LOAD_PROBLEMS));
    }
}
