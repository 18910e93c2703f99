// `hunch/dom`: the helpers that touch the page (prefetch links, click and navigation tracking),
// kept out of the main entry so apps that only predict do not download them.
export { prefetch, looksStateChanging, type PrefetchOptions, type PrefetchReport, type UrlPattern } from './prefetch.js';
export { autoTrack, type AutoTrackOptions } from './autotrack.js';
