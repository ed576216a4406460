package io.github.gram4j.core.fast;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryManager;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where an operation puts the arrays it returns: the ND4J workspace that was current when the
 * operation was called, or ordinary off-heap memory when none was. Captured ({@link #ofCaller})
 * before the operation opens its own scratch workspace, it lets the kernels write a result
 * directly where the caller will find it ({@link #createUninitialized}) instead of computing it
 * in scratch and copying it out; {@link #keep} copies out what was computed in scratch.
 *
 * <p>Inside a caller's workspace a result is recycled memory (valid until that workspace's scope
 * closes, ND4J's rule for any op result); outside one it is fresh memory that ND4J frees when the
 * garbage collector finds its handle or when it is closed.
 *
 * <p>Use it on the thread that captured it, while the caller's workspace (if any) is open.
 */
public final class ResultMemory {

    /** The caller's workspace; null for ordinary memory. */
    private final MemoryWorkspace workspace;

    private ResultMemory(MemoryWorkspace workspace) {
        this.workspace = workspace;
    }

    /**
     * The memory of this thread's caller: its current workspace, if one is active. Call it before
     * opening a scratch workspace.
     *
     * @return the caller's result memory
     */
    public static ResultMemory ofCaller() {
        return new ResultMemory(Nd4j.getMemoryManager().getCurrentWorkspace());
    }

    /** {@return whether results go to a workspace (the caller's) rather than ordinary memory} */
    public boolean inWorkspace() {
        return workspace != null;
    }

    /**
     * A new uninitialised c-order array in this memory, whatever workspace is current.
     *
     * @param type the dtype
     * @param rows rows, {@code ≥ 0}
     * @param cols columns, {@code ≥ 0}
     * @return the array, {@code rows × cols}
     */
    public INDArray createUninitialized(DataType type, long rows, long cols) {
        return create(type, new long[] {rows, cols});
    }

    private INDArray create(DataType type, long[] shape) {
        MemoryManager manager = Nd4j.getMemoryManager();
        MemoryWorkspace current = manager.getCurrentWorkspace();
        manager.setCurrentWorkspace(workspace);
        try {
            return Nd4j.createUninitialized(type, shape, 'c');
        } finally {
            manager.setCurrentWorkspace(current);
        }
    }

    /**
     * {@code x} itself when it already lives in this memory or in ordinary memory, else a copy of
     * it (c-order) in this memory: for results computed in a scratch workspace.
     *
     * @param x an array, or null
     * @return {@code x} or its copy; null for null
     */
    public INDArray keep(INDArray x) {
        if (x == null || !x.isAttached() || (workspace != null && x.data().getParentWorkspace() == workspace)) {
            return x;
        }
        return create(x.dataType(), x.shape()).assign(x);
    }
}
