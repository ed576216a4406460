package io.github.gram4j.index;

import java.nio.MappedByteBuffer;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One memory-mapped chunk of a {@link GramIndex}: the bases {@code Q_m} ({@code items × d}, one per
 * candidate modality, c-order) and {@code Π_m ρ_m} ({@code items}) of global items
 * {@code firstItem … firstItem + items − 1}. The arrays point into the mapped files; they stay valid
 * while this object is reachable.
 */
public final class IndexChunk {

    private final int number;
    private final long firstItem;
    private final long items;
    private final List<INDArray> bases;
    private final INDArray rhoProduct;
    @SuppressWarnings("unused") // keeps the mappings alive as long as the arrays
    private final List<MappedByteBuffer> mappings;

    IndexChunk(int number, long firstItem, long items, List<INDArray> bases, INDArray rhoProduct,
            List<MappedByteBuffer> mappings) {
        this.number = number;
        this.firstItem = firstItem;
        this.items = items;
        this.bases = List.copyOf(bases);
        this.rhoProduct = rhoProduct;
        this.mappings = List.copyOf(mappings);
    }

    /** {@return the chunk's position in the manifest, its number for {@link GramIndex#chunk}} */
    public int number() {
        return number;
    }

    /** {@return the global index of the chunk's first item} */
    public long firstItem() {
        return firstItem;
    }

    /** {@return the number of items in this chunk, the rows of every basis} */
    public long items() {
        return items;
    }

    /**
     * The basis of one candidate modality.
     *
     * @param m the modality, {@code 0 … K − 1}
     * @return {@code Q_m}, {@code items × d}, in the index's dtype: row {@code j} is the unit vector
     *     {@code q_{m,j}} of global item {@code firstItem + j}
     */
    public INDArray basis(int m) {
        return bases.get(m);
    }

    /** {@return all {@code K} bases {@code Q_m} ({@code items × d} each), in modality order; unmodifiable} */
    public List<INDArray> bases() {
        return bases;
    }

    /** {@return {@code Π_m ρ_{m,j}}: a vector of {@code items} entries in the index's dtype} */
    public INDArray rhoProduct() {
        return rhoProduct;
    }
}
