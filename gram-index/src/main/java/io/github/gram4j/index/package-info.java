/**
 * A GRAM retrieval index on disk and its exact, streamed search.
 *
 * <ul>
 *   <li>{@link io.github.gram4j.index.IndexWriter}: builds or appends to an index directory (per item,
 *       the orthonormal basis of its {@code K} candidate vectors and {@code Π ρ}, in memory-mappable
 *       {@code .npy} chunks, with ids and a {@code manifest.json} holding CRC32C checksums).</li>
 *   <li>{@link io.github.gram4j.index.GramIndex}: opens and checks one.</li>
 *   <li>{@link io.github.gram4j.index.IndexSearch}: exact top-k by volume, equal to a stable sort of
 *       the full {@code GramVolumes.pairwise} matrix, in memory independent of the gallery size.</li>
 *   <li>{@link io.github.gram4j.index.StreamedRetrieval}: R@1/5/10, MedR, MeanR of a query set against
 *       the whole index without the {@code Q × N} matrix.</li>
 *   <li>{@link io.github.gram4j.index.ResultFiles}: search results as {@code .npy} + TSV files.</li>
 * </ul>
 */
package io.github.gram4j.index;
