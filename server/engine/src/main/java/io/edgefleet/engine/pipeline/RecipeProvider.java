package io.edgefleet.engine.pipeline;

import java.util.List;

/**
 * Contributes recipes to {@link RecipeRegistry}. Implementations are found with {@link java.util.ServiceLoader}: list
 * the class in {@code META-INF/services/io.edgefleet.engine.pipeline.RecipeProvider}. The engine's own file already
 * names {@code io.edgefleet.engine.quantize.QuantizationRecipes} (public, no-arg constructor); a missing class there
 * is skipped.
 */
public interface RecipeProvider {
    List<Recipe> recipes();
}
