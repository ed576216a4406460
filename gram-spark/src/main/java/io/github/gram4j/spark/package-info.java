/**
 * The index search of {@code gram-index} as an Apache Spark job ({@link io.github.gram4j.spark.SparkSearch}):
 * chunks partitioned across executors, per-partition top-k merged into the global top-k.
 */
package io.github.gram4j.spark;
