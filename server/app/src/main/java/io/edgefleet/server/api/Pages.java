package io.edgefleet.server.api;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * Cursor pagination for every list endpoint. A page is the JSON array the endpoint always returned
 * (so existing clients keep working), at most {@code limit} long; when more follow, the response
 * carries the opaque cursor of the next page in the {@code X-Next-Cursor} header and as an RFC 8288
 * {@code Link: <...>; rel="next"}. Cursors are keyset positions (the sort key of the last item),
 * so pages stay consistent while rows are added.
 */
public final class Pages {
    public static final int MAX_LIMIT = 1000;
    public static final int DEFAULT_LIMIT = 500;
    public static final String NEXT_CURSOR = "X-Next-Cursor";

    /** One page of items and the cursor of the next page (null on the last page). */
    public record Page<T>(List<T> items, String nextCursor) {
    }

    private Pages() {
    }

    /** The requested page size: {@code dflt} when absent, else 1..{@link #MAX_LIMIT}, else a 400. */
    public static int limit(String raw, int dflt) {
        return QueryParams.boundedInt("limit", raw, dflt, 1, MAX_LIMIT, false);
    }

    /** An opaque cursor for a sort key. */
    public static String cursor(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("k:" + key).getBytes(StandardCharsets.UTF_8));
    }

    /** The sort key a cursor stands for, null without a cursor, a 400 for one this server did not make. */
    public static String key(String cursor) {
        if (cursor == null || cursor.isBlank()) {
            return null;
        }
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor.trim()), StandardCharsets.UTF_8);
            if (s.startsWith("k:")) {
                return s.substring(2);
            }
        } catch (IllegalArgumentException e) {
            // fall through
        }
        throw new ApiException(ErrorCode.VALIDATION_FAILED, "cursor '" + cursor + "' is not one this API returned");
    }

    /** The sort key of a cursor as a number (id-ordered lists). */
    public static Long longKey(String cursor) {
        String k = key(cursor);
        if (k == null) {
            return null;
        }
        try {
            return Long.parseLong(k);
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "cursor '" + cursor + "' is not one this API returned");
        }
    }

    /**
     * A page from {@code limit + 1} rows fetched after the cursor: the extra row only says that more follow.
     */
    public static <T> Page<T> of(List<T> rowsPlusOne, int limit, Function<T, String> key) {
        if (rowsPlusOne.size() <= limit) {
            return new Page<>(rowsPlusOne, null);
        }
        List<T> items = new ArrayList<>(rowsPlusOne.subList(0, limit));
        return new Page<>(items, cursor(key.apply(items.get(items.size() - 1))));
    }

    /** A page of a list already sorted by {@code key} (ascending, unique), for the small lists held in memory. */
    public static <T> Page<T> slice(List<T> sorted, String cursor, int limit, Function<T, String> key) {
        String after = key(cursor);
        List<T> rows = new ArrayList<>();
        for (T t : sorted) {
            if (after != null && key.apply(t).compareTo(after) <= 0) {
                continue;
            }
            rows.add(t);
            if (rows.size() > limit) {
                break;
            }
        }
        return of(rows, limit, key);
    }

    /** 200 with the page's items as the body and the next cursor in the headers. */
    public static Response response(Page<?> page, UriInfo uri) {
        Response.ResponseBuilder b = Response.ok(page.items());
        if (page.nextCursor() != null) {
            b.header(NEXT_CURSOR, page.nextCursor());
            if (uri != null) {
                b.link(uri.getRequestUriBuilder().replaceQueryParam("cursor", page.nextCursor()).build(), "next");
            }
        }
        return b.build();
    }
}
