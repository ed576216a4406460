package io.github.gram4j.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** {@link HostRows}: every chunk finishes before the call returns, also when one fails. */
class HostRowsTest {

    @Test
    void aFailingChunkReturnsOnlyAfterEveryRunningChunkHasFinished() {
        int rows = 64;
        AtomicInteger running = new AtomicInteger();
        AtomicInteger finishedAfterFailure = new AtomicInteger();
        IllegalStateException failure = new IllegalStateException("row 0 fails");
        Thread caller = Thread.currentThread();
        for (int threads : new int[] {1, 2, 4, 8}) {
            running.set(0);
            java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> HostRows.forEachCollecting(rows, () -> null, (row, s) -> {
                        running.incrementAndGet();
                        try {
                            // the caller fails at once while helper threads are still inside their rows
                            if (Thread.currentThread() == caller && failed.compareAndSet(false, true)) {
                                throw failure;
                            }
                            sleep(20);
                            finishedAfterFailure.incrementAndGet();
                        } finally {
                            running.decrementAndGet();
                        }
                    }, threads));
            // nothing may still run once the caller has the exception (it would free the memory they read)
            assertEquals(0, running.get(), "rows still running after the call returned, threads = " + threads);
            assertSame(failure, thrown);
        }
    }

    @Test
    void everyFailureIsReportedTheFirstWithTheOthersSuppressed() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> HostRows.forEachCollecting(32, () -> null,
                (row, s) -> {
                    sleep(5);
                    throw new RuntimeException("row " + row);
                }, 4));
        assertTrue(e.getMessage().startsWith("row "), e.getMessage());
        for (Throwable other : e.getSuppressed()) {
            assertTrue(other.getMessage().startsWith("row "), other.getMessage());
        }
    }

    @Test
    void chunksAndTheirOrderDoNotDependOnTheThreadCount() {
        int rows = 1000;
        List<long[]> reference = HostRows.forEachCollecting(rows, () -> new long[2], (row, s) -> {
            s[0] += row;
            s[1]++;
        }, 1);
        assertEquals(HostRows.chunks(rows), reference.size());
        long total = 0;
        for (long[] s : reference) {
            total += s[0];
        }
        assertEquals((long) rows * (rows - 1) / 2, total);
        for (int threads : new int[] {2, 3, 8, 64}) {
            List<long[]> parallel = HostRows.forEachCollecting(rows, () -> new long[2], (row, s) -> {
                s[0] += row;
                s[1]++;
            }, threads);
            for (int c = 0; c < reference.size(); c++) {
                assertEquals(reference.get(c)[0], parallel.get(c)[0], "chunk " + c + ", threads " + threads);
                assertEquals(reference.get(c)[1], parallel.get(c)[1], "chunk " + c + ", threads " + threads);
            }
        }
    }

    @Test
    void oneThreadRunsOnTheCaller() {
        Thread caller = Thread.currentThread();
        HostRows.forEachCollecting(100, () -> null, (row, s) -> assertSame(caller, Thread.currentThread()), 1);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
