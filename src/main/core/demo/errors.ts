/** A problem the user can fix (bad option, unusable output folder, ffmpeg that will not run): print the message, no stack. */
export class DemoDataError extends Error {
  override name = 'DemoDataError';
}
