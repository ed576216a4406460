package io.github.gram4j.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Corrupted, truncated and mismatched indexes are refused with the file named; writes are all-or-nothing. */
class IndexFormatTest {

    @TempDir
    Path tmp;

    private GramIndex small(String name) throws Exception {
        return IndexSearchTest.build(tmp.resolve(name), IndexSearchTest.gallery(48, 8, 2, DataType.FLOAT, 4),
                IndexSearchTest.ids(48), DataType.FLOAT, 16);
    }

    private static Path file(GramIndex index, int chunk, String kind) {
        IndexManifest.Chunk c = index.manifest().chunks().get(chunk);
        IndexManifest.FileEntry f = kind.equals("bases") ? c.bases() : kind.equals("rho") ? c.rhoProduct() : c.ids();
        return index.directory().resolve(f.file());
    }

    private static void assertRefused(Runnable.Throwing call, String... parts) {
        IndexFormatException e = assertThrows(IndexFormatException.class, call::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    /** A call that may throw. */
    interface Runnable {
        /** A call that may throw. */
        interface Throwing {
            void run() throws Exception;
        }
    }

    @Test
    void manifestRoundTripsAndCountsAddUp() throws Exception {
        GramIndex index = small("ok");
        assertEquals(48, index.size());
        assertEquals(4, index.chunkCount()); // 24 + 24 items in chunks of 16: 16, 8, 16, 8
        assertEquals(List.of(16L, 8L, 16L, 8L), index.manifest().chunks().stream().map(IndexManifest.Chunk::items).toList());
        assertEquals(index.manifest(), IndexManifest.parse(index.manifest().toJson(), "m"));
        assertEquals("item-30", index.ids(index.chunkOf(30)).get((int) (30 - 24 - 0)));
        index.verifyAll();
    }

    @Test
    void aFlippedByteIsACorruptedChunk() throws Exception {
        GramIndex index = small("flip");
        Path bases = file(index, 2, "bases");
        try (RandomAccessFile f = new RandomAccessFile(bases.toFile(), "rw")) {
            f.seek(200);
            int b = f.read();
            f.seek(200);
            f.write(b ^ 0x10);
        }
        GramIndex reopened = GramIndex.open(index.directory()); // sizes and headers still fine
        INDArray q = Nd4j.rand(DataType.FLOAT, 2, 8);
        assertRefused(() -> IndexSearch.search(reopened, q, 3), bases.toString(), "corrupted", "CRC32C");
        assertRefused(reopened::verifyAll, bases.toString(), "corrupted");
        // chunks before the bad one are usable on their own
        assertEquals(3, IndexSearch.search(reopened, q, 3, new int[] {0, 1}, null).k());
    }

    @Test
    void aTruncatedFileIsRefusedOnOpen() throws Exception {
        GramIndex index = small("trunc");
        Path rho = file(index, 1, "rho");
        try (RandomAccessFile f = new RandomAccessFile(rho.toFile(), "rw")) {
            f.setLength(f.length() - 4);
        }
        assertRefused(() -> GramIndex.open(index.directory()), rho.toString(), "truncated");
    }

    @Test
    void aMissingFileIsRefusedOnOpen() throws Exception {
        GramIndex index = small("miss");
        Path ids = file(index, 3, "ids");
        Files.delete(ids);
        assertRefused(() -> GramIndex.open(index.directory()), ids.toString(), "missing");
    }

    @Test
    void aManifestThatDisagreesWithTheFilesIsRefused() throws Exception {
        GramIndex index = small("mismatch");
        Path m = index.directory().resolve(IndexManifest.FILE_NAME);
        String json = Files.readString(m);
        Files.writeString(m, json.replace("\"dim\" : 8", "\"dim\" : 9"));
        assertRefused(() -> GramIndex.open(index.directory()), "bases.npy", "d = 9");
        Files.writeString(m, json.replace("\"modalities\" : 2", "\"modalities\" : 3"));
        assertRefused(() -> GramIndex.open(index.directory()), "bases.npy", "K = 3");
        Files.writeString(m, json.replace("\"dtype\" : \"float32\"", "\"dtype\" : \"float64\""));
        assertRefused(() -> GramIndex.open(index.directory()), "bases.npy", "float64");
        Files.writeString(m, json.replace("\"format_version\" : 1", "\"format_version\" : 7"));
        assertRefused(() -> GramIndex.open(index.directory()), "manifest.json", "format_version 7");
        Files.writeString(m, json.substring(0, json.length() / 2));
        assertRefused(() -> GramIndex.open(index.directory()), "manifest.json", "not valid JSON");
        Files.writeString(m, json.replace("\"items\" : 48", "\"items\" : 50"));
        assertRefused(() -> GramIndex.open(index.directory()), "manifest.json", "48 items");
        Files.writeString(m, json.replace("chunk-000001.rho.npy", "../elsewhere.npy"));
        assertRefused(() -> GramIndex.open(index.directory()), "manifest.json", "plain name");
        assertRefused(() -> GramIndex.open(tmp.resolve("nothing")), "no such index directory");
    }

    @Test
    void aFailedBuildLeavesNothingAndAFailedAppendLeavesTheIndexAsItWas() throws Exception {
        Path dir = tmp.resolve("fail");
        INDArray good = Nd4j.rand(DataType.FLOAT, 20, 8);
        INDArray bad = good.dup();
        bad.putScalar(19, 3, Float.POSITIVE_INFINITY);
        try (IndexWriter w = IndexWriter.create(dir, DataType.FLOAT, 8, 2, 8)) {
            w.add(List.of(good, good.mul(2)), IndexSearchTest.ids(20)); // chunks written to the hidden directory
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.add(List.of(good, bad), IndexSearchTest.ids(20)));
            assertTrue(e.getMessage().contains("candidates[1]") && e.getMessage().contains("row 19"), e.getMessage());
        }
        assertFalse(Files.exists(dir));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.contains("fail")).toList());
        }
        GramIndex index = small("app");
        byte[] before = Files.readAllBytes(index.directory().resolve(IndexManifest.FILE_NAME));
        long files;
        try (Stream<Path> s = Files.list(index.directory())) {
            files = s.count();
        }
        try (IndexWriter w = IndexWriter.append(index.directory(), 16)) {
            w.add(List.of(good, good), IndexSearchTest.ids(20));
            assertThrows(IllegalArgumentException.class, () -> w.add(List.of(good), IndexSearchTest.ids(20)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.add(List.of(good, good), List.of("a\nb")));
            assertTrue(e.getMessage().contains("ids"), e.getMessage());
        } // not committed
        assertEquals(new String(before, StandardCharsets.UTF_8),
                Files.readString(index.directory().resolve(IndexManifest.FILE_NAME)));
        try (Stream<Path> s = Files.list(index.directory())) {
            assertEquals(files, s.count());
        }
        assertEquals(48, GramIndex.open(index.directory()).size());
    }

    @Test
    void appendNeverRewritesExistingChunks() throws Exception {
        GramIndex index = small("keep");
        Path first = file(index, 0, "bases");
        long modified = Files.getLastModifiedTime(first).toMillis();
        String crc = GramIndex.crc32c(first);
        try (IndexWriter w = IndexWriter.append(index.directory(), 16)) {
            w.add(List.of(Nd4j.rand(DataType.DOUBLE, 5, 8), Nd4j.rand(DataType.DOUBLE, 5, 8)),
                    List.of("a", "b", "c", "d", "e"));
            w.commit();
        }
        GramIndex grown = GramIndex.open(index.directory());
        assertEquals(53, grown.size());
        assertEquals(5, grown.chunkCount());
        assertEquals(List.of("a", "b", "c", "d", "e"), grown.ids(4));
        assertEquals(crc, GramIndex.crc32c(first));
        assertEquals(modified, Files.getLastModifiedTime(first).toMillis());
        assertThrows(IllegalArgumentException.class,
                () -> IndexWriter.create(index.directory(), DataType.FLOAT, 8, 2, 16));
    }

    @Test
    void aSecondAppendInTheSameJvmIsRefusedClearlyAndAppendsWorkAgainAfterwards() throws Exception {
        GramIndex index = small("lock");
        try (IndexWriter first = IndexWriter.append(index.directory(), 16)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> IndexWriter.append(index.directory(), 16));
            assertTrue(e.getMessage().contains("another append"), e.getMessage());
        }
        // a failed append (here: an unreadable manifest) leaves the index appendable
        Path manifest = index.directory().resolve(IndexManifest.FILE_NAME);
        byte[] good = Files.readAllBytes(manifest);
        Files.writeString(manifest, "{ not json");
        assertThrows(Exception.class, () -> IndexWriter.append(index.directory(), 16));
        Files.write(manifest, good);
        try (IndexWriter again = IndexWriter.append(index.directory(), 16)) {
            again.add(List.of(Nd4j.rand(DataType.DOUBLE, 3, 8), Nd4j.rand(DataType.DOUBLE, 3, 8)),
                    List.of("x", "y", "z"));
            again.commit();
        }
        assertEquals(51, GramIndex.open(index.directory()).size());
    }

    @Test
    void aNewBuildRemovesTheLeftoversOfBuildsThatDiedButNotThoseInProgress() throws Exception {
        Path dir = tmp.resolve("idx");
        // a build killed mid-way (no process holds its lock) and one from before locks existed
        Path dead = Files.createDirectory(tmp.resolve(".idx.tmp-111"));
        Files.writeString(dead.resolve("chunk-000000.ids.txt"), "a\n");
        Files.createFile(tmp.resolve(".idx.tmp-111.lock"));
        Path old = Files.createDirectory(tmp.resolve(".idx.tmp-222"));
        // a build in progress: its lock is held (here by this process)
        Path live = Files.createDirectory(tmp.resolve(".idx.tmp-333"));
        Path liveLock = Files.createFile(tmp.resolve(".idx.tmp-333.lock"));
        // another index's temp directory is none of this build's business
        Path other = Files.createDirectory(tmp.resolve(".other.tmp-444"));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(liveLock,
                java.nio.file.StandardOpenOption.WRITE);
                java.nio.channels.FileLock held = ch.lock()) {
            try (IndexWriter w = IndexWriter.create(dir, DataType.DOUBLE, 8, 2, 16)) {
                assertFalse(Files.exists(dead));
                assertFalse(Files.exists(tmp.resolve(".idx.tmp-111.lock")));
                assertFalse(Files.exists(old));
                assertTrue(Files.exists(live) && Files.exists(liveLock), "a held build is left alone");
                assertTrue(Files.exists(other));
                w.add(List.of(Nd4j.rand(DataType.DOUBLE, 4, 8), Nd4j.rand(DataType.DOUBLE, 4, 8)),
                        List.of("a", "b", "c", "d"));
                w.commit();
            }
        }
        assertEquals(4, GramIndex.open(dir).size());
        try (Stream<Path> s = Files.list(tmp)) {
            // the committed build left neither its work directory nor its lock file
            assertEquals(List.of(".idx.tmp-333", ".idx.tmp-333.lock", ".other.tmp-444", "idx"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
