using System;
using System.IO;
using System.IO.Pipes;
using System.Net.Security;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Buffer mode needs only a Stream: here two OS pipes, no socket at all.</summary>
public class PipeTests
{
    /// <summary>One pipe to read, another to write, as one Stream.</summary>
    private sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel = default) => read.ReadAsync(buffer, cancel);
        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancel = default) => write.WriteAsync(buffer, cancel);
        public override void Flush() => write.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                read.Dispose();
                write.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private static (Stream Reader, Stream Writer) Pipe()
    {
        var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        return (new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle), writer);
    }

    [Fact]
    public async Task ClientOverPipesTalksToSslStream()
    {
        (Stream toServerRead, Stream toServerWrite) = Pipe();
        (Stream toClientRead, Stream toClientWrite) = Pipe();
        using var server = new SslStream(new DuplexStream(toServerRead, toClientWrite));
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer());
        using TlsContext context = Peers.TrustingClient("sec-protocol=TLSv12");
        using var client = new TlsStream(new DuplexStream(toClientRead, toServerWrite), context);
        await client.AuthenticateAsClientAsync("localhost").WaitAsync(Peers.Patience);
        await serverHandshake.WaitAsync(Peers.Patience);
        Assert.Equal("TLSv1.2", client.NegotiatedProtocol);
        _ = Peers.EchoAsync(server);
        await Peers.AssertEchoAsync(client, "through two pipes\n");
    }
}
