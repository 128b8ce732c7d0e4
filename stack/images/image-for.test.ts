import { IMAGES, imageFor, resolveImage } from './images';

describe('imageFor', () => {
  it("uses lagstorm's own image unless LAGSTORM_IMAGE_<ROLE> names another", () => {
    expect(imageFor('postgres', {})).toBe(IMAGES.postgres);
    expect(imageFor('postgres', { LAGSTORM_IMAGE_POSTGRES: 'registry.example/pg:15' })).toBe('registry.example/pg:15');
    expect(imageFor('reference-backend', { LAGSTORM_IMAGE_REFERENCE_BACKEND: 'studio/backend:1' })).toBe('studio/backend:1');
    expect(IMAGES.toxiproxy).toBe('lagstorm/toxiproxy:2.12.0');
  });
});

describe('resolveImage', () => {
  it("follows a role's LAGSTORM_IMAGE_<ROLE> for lagstorm's own images and keeps any other image as named", () => {
    expect(resolveImage('lagstorm/colyseus-backend:latest', {})).toBe('lagstorm/colyseus-backend:latest');
    expect(resolveImage('lagstorm/colyseus-backend:latest', { LAGSTORM_IMAGE_COLYSEUS_BACKEND: 'studio/colyseus:2' })).toBe('studio/colyseus:2');
    expect(resolveImage('studio/backend:1', { LAGSTORM_IMAGE_REFERENCE_BACKEND: 'other:1' })).toBe('studio/backend:1');
  });
});
