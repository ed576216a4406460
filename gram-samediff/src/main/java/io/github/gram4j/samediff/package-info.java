/**
 * GRAM for SameDiff, ND4J's autodiff: the pairwise volume matrix ({@link
 * io.github.gram4j.samediff.SameDiffVolumes}), GRAM's loss ({@link
 * io.github.gram4j.samediff.SameDiffGramLoss}) and the cosine InfoNCE baseline ({@link
 * io.github.gram4j.samediff.SameDiffCosineInfoNce}), one-process and gathered ({@link
 * io.github.gram4j.samediff.GatheredVariables}), as differentiable subgraphs of a user's
 * {@code SameDiff} model. They give gram-core's volumes and gram-loss's values and gradients, and
 * train with {@code sd.fit}.
 *
 * <p>Depends on nd4j-api and gram-core only; the ND4J backend is the application's choice.
 */
package io.github.gram4j.samediff;
