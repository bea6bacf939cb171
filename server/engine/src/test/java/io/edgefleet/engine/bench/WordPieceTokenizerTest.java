package io.edgefleet.engine.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class WordPieceTokenizerTest {

    private static final String JSON = """
            {"model": {"type": "WordPiece", "vocab": {
              "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
              "un": 4, "##aff": 5, "##able": 6, "cafe": 7, "!": 8, "the": 9, "'": 10, "s": 11, "$": 12, "5": 13,
              "\u4e2d": 14, "run": 15, "##ning": 16, "##n": 17}}}
            """;

    private static WordPieceTokenizer tokenizer() throws Exception {
        return WordPieceTokenizer.fromTokenizerJson(new ByteArrayInputStream(JSON.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void basicTokenizationLowercasesStripsAccentsAndSplitsPunctuation() {
        assertEquals(List.of("the", "cafe", "'", "s", "$", "5", "!"),
                WordPieceTokenizer.basicTokens("The\tCAFÉ's  $5!\u0000"));
        assertEquals(List.of("a", "\u4e2d", "b"), WordPieceTokenizer.basicTokens("a\u4e2db"));
    }

    @Test
    void greedyLongestMatchWithContinuationPrefix() throws Exception {
        WordPieceTokenizer t = tokenizer();
        assertArrayEquals(new long[] {2, 4, 5, 6, 8, 3}, t.encode("Unaffable!", 16));
        // "running": longest first piece "run", then "##ning" beats "##n"
        assertArrayEquals(new long[] {2, 15, 16, 3}, t.encode("running", 16));
        // a word with an unmatchable piece becomes a single [UNK]
        assertArrayEquals(new long[] {2, 1, 9, 3}, t.encode("unxyz the", 16));
    }

    @Test
    void truncatesButKeepsSeparator() throws Exception {
        assertArrayEquals(new long[] {2, 9, 9, 3}, tokenizer().encode("the the the the", 4));
    }
}
