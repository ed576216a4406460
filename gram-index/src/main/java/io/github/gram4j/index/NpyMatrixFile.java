package io.github.gram4j.index;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A 2-D float32 or float64 {@code .npy} file read in row ranges through memory maps, so that an input
 * larger than the heap (a million-item modality) is read a chunk at a time.
 *
 * <p>Arrays returned by {@link #rows} are views of the mapped file; they stay valid until
 * {@link #close} (which only drops this object's references: the mappings go when collected).
 */
public final class NpyMatrixFile implements AutoCloseable {

    private final String name;
    private final FileChannel channel;
    private final NpyFormat.Header header;
    private final List<Object> mappings = new ArrayList<>();

    private NpyMatrixFile(String name, FileChannel channel, NpyFormat.Header header) {
        this.name = name;
        this.channel = channel;
        this.header = header;
    }

    /**
     * Opens {@code file} and checks its header.
     *
     * @param file a {@code .npy} file holding a {@code rows × d} float32 or float64 array
     * @param name the file's name in messages
     * @return the open file, to be closed by the caller
     * @throws IllegalArgumentException naming the file if it is missing, not a {@code .npy} file, not
     *     2-D, empty, or not little-endian float32/float64
     * @throws IOException if the file cannot be opened or read
     */
    public static NpyMatrixFile open(Path file, String name) throws IOException {
        if (java.nio.file.Files.isDirectory(file)) {
            throw new IllegalArgumentException(name + ": is a directory, not a .npy file");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(name + ": no such file", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": cannot be read (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + ")", e);
        }
        try {
            NpyFormat.Header h = NpyFormat.read(ch, name);
            if (h.dataType() != DataType.FLOAT && h.dataType() != DataType.DOUBLE) {
                throw new IllegalArgumentException(name + ": holds int64 values; need float32 or float64 embeddings");
            }
            if (h.shape().length != 2 || h.shape()[0] == 0 || h.shape()[1] == 0) {
                throw new IllegalArgumentException(name + ": need a non-empty 2-D (rows x d) array, got shape "
                        + Arrays.toString(h.shape()));
            }
            return new NpyMatrixFile(name, ch, h);
        } catch (IllegalArgumentException | IOException e) {
            ch.close();
            throw e;
        }
    }

    /** {@return the row count, the array's first dimension} */
    public long rowCount() {
        return header.shape()[0];
    }

    /** {@return {@code d}, the number of columns, the array's second dimension} */
    public long columns() {
        return header.shape()[1];
    }

    /** {@return FLOAT or DOUBLE: the dtype of the stored values and of {@link #rows}} */
    public DataType dataType() {
        return header.dataType();
    }

    /** {@return the name given to {@link #open}, used in messages} */
    public String name() {
        return name;
    }

    /**
     * Rows {@code from … to − 1} as a c-order view of the file.
     *
     * @param from the first row, inclusive
     * @param to the end row, exclusive, greater than {@code from} and at most {@link #rowCount()}
     * @return a {@code (to − from) × d} array in {@link #dataType()}, valid until {@link #releaseRows} or
     *     {@link #close}
     * @throws IndexOutOfBoundsException if the range is empty or outside {@code 0 … rowCount()}
     * @throws IllegalArgumentException if the rows span more than 2 GiB
     * @throws IOException if the range cannot be mapped
     */
    public INDArray rows(long from, long to) throws IOException {
        if (from < 0 || to > rowCount() || from >= to) {
            throw new IndexOutOfBoundsException(name + ": rows " + from + ".." + to + " of " + rowCount());
        }
        long rowBytes = columns() * dataType().width();
        MappedArrays.Mapped m = MappedArrays.map(channel, header.dataOffset() + from * rowBytes, dataType(),
                to - from, columns());
        synchronized (mappings) {
            mappings.add(m.mapping());
        }
        return m.array();
    }

    /**
     * Lets go of the mappings behind every array returned so far (they must not be used after), so
     * that a long sequential read does not keep the whole file mapped.
     */
    public void releaseRows() {
        synchronized (mappings) {
            mappings.clear();
        }
    }

    /** Closes the file and lets go of the mappings (arrays from {@link #rows} must not be used after). */
    @Override
    public void close() throws IOException {
        synchronized (mappings) {
            mappings.clear();
        }
        channel.close();
    }
}
