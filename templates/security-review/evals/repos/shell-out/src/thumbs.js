import { exec, execFile } from 'node:child_process';

export function thumbnail(req, done) {
  exec(`convert uploads/${req.body.file} -resize 64x64 thumbs/${req.body.file}`, done);
}

export function thumbnailSafely(file, done) {
  execFile('convert', [`uploads/${file}`, '-resize', '64x64', `thumbs/${file}`], done);
}
