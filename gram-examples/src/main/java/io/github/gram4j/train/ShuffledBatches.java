package io.github.gram4j.train;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An epoch of shuffled mini-batches of paired multimodal rows, for SameDiff's {@code sd.fit}: each
 * {@link MultiDataSet} holds one feature array per modality ({@code batchSize × d_m}, the rows of
 * the same items in the same order, in the split's dtype) and no labels (GRAM's targets are the
 * diagonal of the batch).
 *
 * <p>Every epoch (the first, and each {@link #reset()}) draws a new permutation of the items from
 * one seeded {@link Random}, so the whole sequence of batches is reproducible. The last partial
 * batch of an epoch is dropped: every batch has exactly {@code batchSize} rows, so every step's loss
 * is a {@code batchSize × batchSize} contrastive problem and the losses of different steps are
 * comparable. An epoch therefore has {@code items / batchSize} (rounded down) batches.
 *
 * <p>Not thread-safe, like every ND4J iterator. No asynchronous prefetch ({@link #asyncSupported()}
 * is false: the batches are cheap row gathers).
 */
public final class ShuffledBatches implements MultiDataSetIterator {

    private static final long serialVersionUID = 1L;

    private final List<INDArray> features;
    private final int items;
    private final int batchSize;
    private final Random random;
    private final int[] order;
    private int position;
    private MultiDataSetPreProcessor preProcessor;

    /**
     * @param features one {@code items × d_m} matrix per modality, row {@code i} of each being item
     *     {@code i} (a training split has one text row per item)
     * @param batchSize rows per batch, {@code 1 ≤ batchSize ≤ items}
     * @param seed the seed of the shuffles
     * @throws IllegalArgumentException if {@code features} is null, empty, holds a null or non
     *     rank-2 matrix or matrices of different row counts, or {@code batchSize} is out of range
     */
    public ShuffledBatches(List<INDArray> features, int batchSize, long seed) {
        if (features == null || features.isEmpty()) {
            throw new IllegalArgumentException("features must hold at least one modality's matrix");
        }
        for (int m = 0; m < features.size(); m++) {
            INDArray x = features.get(m);
            if (x == null || x.rank() != 2) {
                throw new IllegalArgumentException("features[" + m + "] must be a rank-2 (items x d) matrix, got "
                        + (x == null ? "null" : java.util.Arrays.toString(x.shape())));
            }
            if (x.rows() != features.get(0).rows()) {
                throw new IllegalArgumentException("features[" + m + "] has " + x.rows() + " rows but features[0] has "
                        + features.get(0).rows() + "; row i of every modality must be item i");
            }
        }
        this.features = List.copyOf(features);
        this.items = features.get(0).rows();
        if (batchSize < 1 || batchSize > items) {
            throw new IllegalArgumentException("batchSize must be in 1.." + items + " (the number of items), got "
                    + batchSize);
        }
        this.batchSize = batchSize;
        this.random = new Random(seed);
        this.order = new int[items];
        reset();
    }

    /** Full batches per epoch: {@code items / batchSize}, rounded down. */
    public int batchesPerEpoch() {
        return items / batchSize;
    }

    /** Rows per batch. */
    public int batchSize() {
        return batchSize;
    }

    @Override
    public boolean hasNext() {
        return position + batchSize <= items;
    }

    /**
     * The next batch.
     *
     * @throws NoSuchElementException at the end of the epoch
     */
    @Override
    public MultiDataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch exhausted after " + batchesPerEpoch() + " batches; call reset()");
        }
        int[] rows = java.util.Arrays.copyOfRange(order, position, position + batchSize);
        position += batchSize;
        INDArray[] batch = new INDArray[features.size()];
        for (int m = 0; m < batch.length; m++) {
            batch[m] = Nd4j.pullRows(features.get(m), 1, rows);
        }
        MultiDataSet data = new MultiDataSet(batch, new INDArray[0]);
        if (preProcessor != null) {
            preProcessor.preProcess(data);
        }
        return data;
    }

    /** Not supported: the batch size is fixed at construction. */
    @Override
    public MultiDataSet next(int num) {
        throw new UnsupportedOperationException("the batch size is fixed at construction (" + batchSize + ")");
    }

    /** Starts a new epoch with a fresh permutation of the items. */
    @Override
    public void reset() {
        for (int i = 0; i < items; i++) {
            order[i] = i;
        }
        for (int i = items - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        position = 0;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public MultiDataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }
}
