/**
 * Training on top of gram-loss: seeded synthetic multimodal features
 * ({@link io.github.gram4j.train.SyntheticModalities}) and per-modality linear heads trained with
 * the GRAM loss or the cosine baseline ({@link io.github.gram4j.train.AlignmentTrainer}), and the
 * same heads as a SameDiff graph trained by {@code sd.fit} with gram-samediff's loss
 * ({@link io.github.gram4j.train.SameDiffAlignmentExample}).
 */
package io.github.gram4j.train;
