package io.github.gram4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded synthetic multimodal embeddings with a known shared structure, standing in for frozen
 * encoder outputs (GRAM trains projection heads on top of such features).
 *
 * <p>Every item {@code i} has a latent concept {@code z_i ~ N(0, I_c)}. Modality {@code m} observes
 * it through its own fixed random linear map into its own feature dimension {@code d_m}, plus
 * modality-specific nuisance directions driven by per-row random factors, plus isotropic noise:
 * {@code x = M_m z_i + N_m u + σ ε}. The maps differ across modalities and the nuisance outweighs
 * the signal, so raw features are not aligned: a linear head per modality has to find the shared
 * subspace. Modality 0 ("text") sees the whole concept; every other modality sees a window of
 * {@link #VIEW_FRACTION} of it, the windows spread so that together they cover it — the situation
 * in which aligning all modalities at once (GRAM) beats aligning text with one of them. Modality 0
 * may have several rows ("captions") per item; the others have one.
 *
 * <p>Deterministic for a given {@link Config}. Immutable results; FLOAT arrays.
 */
public final class SyntheticModalities {

    /** The fraction of the concept each non-text modality sees. */
    static final double VIEW_FRACTION = 0.6;

    /** Names used for modalities 0…4. */
    public static final List<String> NAMES = List.of("text", "video", "audio", "subtitles", "depth");

    /**
     * @param items number of items (train + test)
     * @param modalities {@code k}, 2…5
     * @param conceptDim dimension {@code c} of the shared latent concept
     * @param nuisanceDim number of modality-specific nuisance directions
     * @param nuisanceScale scale of the nuisance relative to the concept
     * @param noise standard deviation {@code σ} of the isotropic noise
     * @param captionsPerItem text rows per item in the test split ({@code ≥ 1}; training uses one)
     * @param testFraction fraction of items held out for testing
     * @param seed the seed of everything
     */
    public record Config(int items, int modalities, int conceptDim, int nuisanceDim, double nuisanceScale,
            double noise, int captionsPerItem, double testFraction, long seed) {

        /** Checks the ranges. */
        public Config {
            if (modalities < 2 || modalities > NAMES.size()) {
                throw new IllegalArgumentException("modalities must be 2.." + NAMES.size() + ", got " + modalities);
            }
            if (items < 4 || conceptDim < 1 || nuisanceDim < 0 || captionsPerItem < 1) {
                throw new IllegalArgumentException("need items >= 4, conceptDim >= 1, nuisanceDim >= 0,"
                        + " captionsPerItem >= 1; got " + items + ", " + conceptDim + ", " + nuisanceDim + ", "
                        + captionsPerItem);
            }
            if (!(testFraction > 0 && testFraction < 1) || !(noise >= 0) || !(nuisanceScale >= 0)) {
                throw new IllegalArgumentException("need 0 < testFraction < 1, noise >= 0, nuisanceScale >= 0; got "
                        + testFraction + ", " + noise + ", " + nuisanceScale);
            }
        }

        /** A default world: 16-d concepts, 24 nuisance directions at 1.5× the concept's scale, σ = 0.3. */
        public static Config of(int items, int modalities, long seed) {
            return new Config(items, modalities, 16, 24, 1.5, 0.3, 1, 0.2, seed);
        }
    }

    /**
     * One split: per modality a {@code rows × d_m} feature matrix, and the item of every row.
     *
     * @param features modality {@code m}'s rows; modality 0 may have more rows than items
     * @param textItems the item of each row of {@code features.get(0)}
     * @param items the number of items; row {@code j} of modalities 1… is item {@code j}
     */
    public record Split(List<INDArray> features, long[] textItems, int items) {
    }

    /**
     * @param names the modality names
     * @param dims each modality's feature dimension
     * @param train one text row per item
     * @param test {@code captionsPerItem} text rows per item
     */
    public record Dataset(List<String> names, int[] dims, Split train, Split test) {
    }

    private SyntheticModalities() {
    }

    /** Feature dimension of modality {@code m}: each its own, between 48 and 96. */
    static int dim(int m) {
        return 48 + 12 * m;
    }

    /** Generates the dataset for {@code config}. */
    public static Dataset generate(Config config) {
        Random random = new Random(config.seed());
        int k = config.modalities();
        int c = config.conceptDim();
        int n = config.nuisanceDim();
        int[] dims = new int[k];
        double[][][] maps = new double[k][][];
        double[][][] nuisance = new double[k][][];
        for (int m = 0; m < k; m++) {
            dims[m] = dim(m);
            maps[m] = gaussian(random, dims[m], c, 1 / Math.sqrt(c));
            if (m > 0) {
                hideConceptOutsideView(maps[m], m - 1, k - 1);
            }
            nuisance[m] = gaussian(random, dims[m], n, config.nuisanceScale() / Math.sqrt(Math.max(n, 1)));
        }
        int testItems = Math.max(2, (int) Math.round(config.items() * config.testFraction()));
        int trainItems = config.items() - testItems;
        double[][] concepts = gaussian(random, config.items(), c, 1.0);
        Split train = split(random, config, concepts, 0, trainItems, 1, dims, maps, nuisance);
        Split test = split(random, config, concepts, trainItems, testItems, config.captionsPerItem(), dims, maps,
                nuisance);
        return new Dataset(NAMES.subList(0, k), dims, train, test);
    }

    private static Split split(Random random, Config config, double[][] concepts, int first, int count, int captions,
            int[] dims, double[][][] maps, double[][][] nuisance) {
        List<INDArray> features = new ArrayList<>();
        long[] textItems = new long[count * captions];
        for (int m = 0; m < dims.length; m++) {
            int rows = m == 0 ? count * captions : count;
            double[][] x = new double[rows][dims[m]];
            for (int r = 0; r < rows; r++) {
                int item = m == 0 ? r / captions : r;
                if (m == 0) {
                    textItems[r] = item;
                }
                observe(random, concepts[first + item], maps[m], nuisance[m], config.noise(), x[r]);
            }
            features.add(Nd4j.create(x).castTo(DataType.FLOAT));
        }
        return new Split(List.copyOf(features), textItems, count);
    }

    /**
     * Non-text modality {@code v} of {@code views} sees a window of {@link #VIEW_FRACTION} of the
     * concept's coordinates, the windows of the modalities spread evenly around them: each
     * modality alone is a partial view, together they cover the whole concept (the text sees all).
     */
    private static void hideConceptOutsideView(double[][] map, int v, int views) {
        int c = map[0].length;
        int width = Math.max(1, (int) Math.ceil(VIEW_FRACTION * c));
        int start = views == 1 ? 0 : (int) Math.round((double) v * (c - width) / (views - 1));
        for (double[] row : map) {
            for (int j = 0; j < c; j++) {
                if (j < start || j >= start + width) {
                    row[j] = 0;
                }
            }
        }
    }

    /** {@code out = M z + N u + σ ε} with fresh {@code u} and {@code ε}. */
    private static void observe(Random random, double[] z, double[][] map, double[][] nuisance, double noise,
            double[] out) {
        int n = nuisance[0].length;
        double[] u = new double[n];
        for (int j = 0; j < n; j++) {
            u[j] = random.nextGaussian();
        }
        for (int e = 0; e < out.length; e++) {
            double v = 0;
            for (int j = 0; j < z.length; j++) {
                v += map[e][j] * z[j];
            }
            for (int j = 0; j < n; j++) {
                v += nuisance[e][j] * u[j];
            }
            out[e] = v + noise * random.nextGaussian();
        }
    }

    private static double[][] gaussian(Random random, int rows, int cols, double scale) {
        double[][] x = new double[rows][cols];
        for (double[] row : x) {
            for (int j = 0; j < cols; j++) {
                row[j] = scale * random.nextGaussian();
            }
        }
        return x;
    }
}
