/**
 * Retrieval metrics of any score matrix ({@code B1} anchors × {@code B2} candidates), as GRAM
 * evaluates retrieval: {@link io.github.gram4j.metrics.RetrievalMetrics} (R@1/5/10, median and mean
 * rank in both directions), {@link io.github.gram4j.metrics.RetrievalRanks} (the ranks behind them)
 * and {@link io.github.gram4j.metrics.ScoreOrder} (volumes: lower is better; cosine: higher is
 * better).
 *
 * <p>All classes are immutable and thread-safe. Bad input is an {@link IllegalArgumentException}
 * that names the argument and the shapes.
 */
package io.github.gram4j.metrics;
