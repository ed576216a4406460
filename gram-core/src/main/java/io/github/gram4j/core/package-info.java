/**
 * GRAM volumes on ND4J arrays: {@link io.github.gram4j.core.GramVolumes} is the entry point,
 * {@link io.github.gram4j.core.ModalityBatches} the validated input. Backend-neutral: depends on
 * {@code nd4j-api} only.
 */
package io.github.gram4j.core;
