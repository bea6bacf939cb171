package io.edgefleet.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay between clients and a broker whose connections a test can cut, as a network
 * failure would, while the broker keeps running. {@link #cut} first stops relaying broker → client and
 * leaves client → broker open for a moment, so whatever the client fully received is acknowledged
 * before the sockets close; a packet only partly relayed is never delivered and the broker sends it
 * again. Accepts new connections again right away.
 */
public final class CuttableProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final String upstreamHost;
    private final int upstreamPort;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    private final class Link {
        final Socket client;
        final Socket upstream;
        volatile boolean downstreamHeld;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void closeBoth() {
            quietly(client);
            quietly(upstream);
        }
    }

    public CuttableProxy(String upstreamHost, int upstreamPort) {
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        try {
            listener = new ServerSocket();
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for the proxy", e);
        }
        acceptor = new Thread(this::acceptLoop, "proxy-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "tcp://127.0.0.1:" + listener.getLocalPort();
    }

    /** Stops relaying broker → client on every current connection at once (callable from any thread; returns at once). */
    public void hold() {
        links.forEach(l -> l.downstreamHeld = true);
    }

    /** {@link #hold}, waits {@code settleMs} for the clients' acknowledgements, then closes every connection. */
    public void cut(long settleMs) {
        List<Link> now = List.copyOf(links);
        now.forEach(l -> l.downstreamHeld = true);
        try {
            Thread.sleep(settleMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        now.forEach(Link::closeBoth);
        links.removeAll(now);
    }

    public int connections() {
        return links.size();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket upstream = new Socket(upstreamHost, upstreamPort);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                Link link = new Link(client, upstream);
                links.add(link);
                pump(link, upstream, client, true);
                pump(link, client, upstream, false);
            } catch (IOException e) {
                if (!closed) {
                    Log.info("proxy accept failed: " + e.getMessage());
                }
            }
        }
    }

    private void pump(Link link, Socket from, Socket to, boolean downstream) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                // Not try-with-resources: closing a socket's stream closes the socket, and a held relay must
                // keep the other direction open until the cut.
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while (!(downstream && link.downstreamHeld) && (n = in.read(buf)) >= 0) {
                    if (downstream && link.downstreamHeld) {
                        break; // read after the hold: dropped, never delivered, so the broker resends it
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // a cut or a close on either side
            }
            if (!downstream || !link.downstreamHeld) {
                link.closeBoth();
                links.remove(link);
            }
        }, "proxy-" + (downstream ? "down" : "up"));
        t.setDaemon(true);
        t.start();
    }

    private static void quietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        links.forEach(Link::closeBoth);
        links.clear();
    }
}
