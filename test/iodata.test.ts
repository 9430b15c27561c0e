import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeAll } from './helpers/sockets';
import { eachTransport } from './helpers/transports';

afterEach(() => closeAll());

eachTransport(({ T, open }) => {
  test('a sub-array used twice is iodata for sendBatch as for send; a cyclic one is badarg', async () => {
    const peer = dgram.createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    const socket = open(0, { ip: 'loopback' });
    try {
      const shared = ['ab'];
      const arriving = once(peer, 'message');
      expect(await T.sendBatch(socket, [{ address: '127.0.0.1', port: peer.address().port, data: [shared, shared] }])).toBe(1);
      expect(String((await arriving)[0])).toBe('abab');
      const cyclic: unknown[] = ['x'];
      cyclic.push(cyclic);
      await expect(T.sendBatch(socket, [{ address: '127.0.0.1', port: 9, data: cyclic as never }])).rejects.toMatchObject({ reason: 'badarg' });
    } finally {
      peer.close();
    }
  });
});
