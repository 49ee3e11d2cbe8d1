package dev.weldr.faults;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;

/**
 * The backend of one lab host: a single-threaded HTTP/1.1 server that answers every request on
 * every one of its ports with 200 and the host's name. It listens on many ports so that the writer
 * can add and remove many distinct servers that all really answer (the proxy sends client traffic
 * to them). JDK only: it runs in its own JVM inside the host's network namespace.
 *
 * <p>Usage: {@code LabBackend <bind address> <name> <port> [<first port>-<last port>]...}
 */
public final class LabBackend {

    private LabBackend() {
    }

    public static void main(String[] args) throws IOException {
        String bind = args[0];
        byte[] body = args[1].getBytes(StandardCharsets.US_ASCII);
        byte[] response = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n"
                + args[1]).getBytes(StandardCharsets.US_ASCII);
        Selector selector = Selector.open();
        int listening = 0;
        for (int i = 2; i < args.length; i++) {
            String[] range = args[i].split("-");
            int from = Integer.parseInt(range[0]);
            int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            for (int port = from; port <= to; port++) {
                ServerSocketChannel server = ServerSocketChannel.open();
                server.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(new InetSocketAddress(bind, port), 128);
                server.configureBlocking(false);
                server.register(selector, SelectionKey.OP_ACCEPT);
                listening++;
            }
        }
        System.out.println("backend " + args[1] + " listening on " + listening + " ports of " + bind);
        while (true) {
            selector.select();
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                try {
                    if (key.isAcceptable()) {
                        SocketChannel c = ((ServerSocketChannel) key.channel()).accept();
                        if (c != null) {
                            c.configureBlocking(false);
                            c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                            c.register(selector, SelectionKey.OP_READ, new Conn());
                        }
                    } else {
                        serve(key, response);
                    }
                } catch (IOException e) {
                    key.cancel();
                    key.channel().close();
                }
            }
        }
    }

    /** Bytes of the request read so far (headers only: lab requests have no body), and an answer not yet written. */
    private static final class Conn {
        final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        ByteBuffer out;
        int matched; // how much of CRLF CRLF has been seen
    }

    private static void serve(SelectionKey key, byte[] response) throws IOException {
        SocketChannel c = (SocketChannel) key.channel();
        Conn conn = (Conn) key.attachment();
        if (key.isWritable() && conn.out != null) {
            c.write(conn.out);
            if (conn.out.hasRemaining()) {
                return;
            }
            conn.out = null;
            key.interestOps(SelectionKey.OP_READ);
        }
        if (!key.isReadable()) {
            return;
        }
        conn.in.clear();
        int n = c.read(conn.in);
        if (n < 0) {
            key.cancel();
            c.close();
            return;
        }
        conn.in.flip();
        int requests = 0;
        while (conn.in.hasRemaining()) {
            byte b = conn.in.get();
            // Count complete requests by their blank line: \r\n\r\n.
            if (b == (conn.matched % 2 == 0 ? '\r' : '\n')) {
                conn.matched++;
                if (conn.matched == 4) {
                    requests++;
                    conn.matched = 0;
                }
            } else {
                conn.matched = b == '\r' ? 1 : 0;
            }
        }
        if (requests > 0) {
            ByteBuffer out = ByteBuffer.allocate(response.length * requests);
            for (int i = 0; i < requests; i++) {
                out.put(response);
            }
            out.flip();
            if (conn.out != null) {
                ByteBuffer both = ByteBuffer.allocate(conn.out.remaining() + out.remaining());
                both.put(conn.out).put(out).flip();
                out = both;
            }
            c.write(out);
            if (out.hasRemaining()) {
                conn.out = out;
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            } else {
                conn.out = null;
            }
        }
    }
}
