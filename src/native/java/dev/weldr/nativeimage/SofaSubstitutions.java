package dev.weldr.nativeimage;

import com.alipay.sofa.common.log.LogSpace;
import com.alipay.sofa.common.log.factory.AbstractLoggerSpaceFactory;
import com.alipay.sofa.common.space.SpaceId;
import com.oracle.svm.core.annotate.Alias;
import com.oracle.svm.core.annotate.Substitute;
import com.oracle.svm.core.annotate.TargetClass;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.concurrent.ThreadFactory;

/**
 * Native image only (compiled by the {@code native} Maven profile, from src/native/java).
 *
 * Quarkus builds native images with {@code --link-at-build-time}: a reachable reference to a
 * class that is not on the class path fails the build. Two libraries under SOFAJRaft refer to
 * optional libraries weldr does not ship, on paths it never takes:
 * <ul>
 * <li>sofa-common-tools builds a logger for bolt's and JRaft's log spaces with logback, log4j2,
 * log4j or commons-logging when one is present. None is (weldr logs through JBoss LogManager), so
 * on the JVM it ends with "No log util is usable" and its no-op factory; here it goes there
 * directly.</li>
 * <li>bolt can use Netty's incubating io_uring transport (off unless {@code bolt.netty.io_uring}
 * is set) or epoll. Here it uses NIO, which needs no JNI.</li>
 * </ul>
 * NativeSubstitutionsTest checks, on the JVM, that every class, method and field named here exists.
 */
final class SofaSubstitutions {

    private SofaSubstitutions() {
    }
}

@TargetClass(className = "com.alipay.sofa.common.log.MultiAppLoggerSpaceManager")
final class Target_com_alipay_sofa_common_log_MultiAppLoggerSpaceManager {

    @Alias
    private static AbstractLoggerSpaceFactory NOP_LOGGER_FACTORY;

    @Substitute
    private static AbstractLoggerSpaceFactory createILoggerFactory(SpaceId spaceId, LogSpace logSpace, ClassLoader classLoader) {
        return NOP_LOGGER_FACTORY;
    }
}

@TargetClass(className = "com.alipay.remoting.util.NettyEventLoopUtil")
final class Target_com_alipay_remoting_util_NettyEventLoopUtil {

    @Substitute
    public static EventLoopGroup newEventLoopGroup(int nThreads, ThreadFactory threadFactory) {
        return new NioEventLoopGroup(nThreads, threadFactory);
    }

    @Substitute
    public static Class<? extends SocketChannel> getClientSocketChannelClass() {
        return NioSocketChannel.class;
    }

    @Substitute
    public static Class<? extends ServerSocketChannel> getServerSocketChannelClass() {
        return NioServerSocketChannel.class;
    }

    @Substitute
    public static void enableTriggeredMode(ServerBootstrap serverBootstrap) {
        // Edge- or level-triggered mode is an epoll setting; NIO has none.
    }
}
