#!/usr/bin/env node
// Regenerates resources/icon.png (256x256) from resources/icon.svg; both are committed.
// Usage: node scripts/make-icon.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import sharp from 'sharp';

const dir = fileURLToPath(new URL('../resources/', import.meta.url));
const svg = readFileSync(`${dir}icon.svg`);
// density: rasterise the vector at 4x before downscaling, so the edges are smooth.
const png = await sharp(svg, { density: 288 }).resize(256, 256).png({ compressionLevel: 9 }).toBuffer();
writeFileSync(`${dir}icon.png`, png);
console.log(`resources/icon.png: 256x256, ${png.length} bytes`);
