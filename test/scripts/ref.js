// A process whose only handle is one socket waiting in recv (or active mode). `node ref.js
// MODE`: 'unref' calls socket.unref(), 'unrefRef' unref() then ref(), 'referenced' neither.
// Prints {"port"} once waiting, and {"got"} if a datagram comes; then it closes the socket.
// Whether the process exits while the recv waits is what the test looks at.
const { UDP } = require('./transport');

const mode = process.argv[2];
const waiting = process.argv[3] || 'recv';
const socket = UDP.listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
if (mode === 'unref' || mode === 'unrefRef') {
  if (socket.unref() !== socket) throw new Error('unref() does not return the socket');
}
if (mode === 'unrefRef' && socket.ref() !== socket) throw new Error('ref() does not return the socket');
const done = (datagram) => {
  console.log(JSON.stringify({ got: String(datagram.data) }));
  UDP.close(socket);
};
if (waiting === 'active') {
  socket.once('udp', done);
  UDP.setopts(socket, { active: true });
} else {
  UDP.recv(socket, 0, 'infinity').then(done);
}
console.log(JSON.stringify({ port: UDP.sockname(socket).port }));
