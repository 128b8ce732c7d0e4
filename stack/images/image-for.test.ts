import { IMAGES, imageFor } from './images';

describe('imageFor', () => {
  it("uses lagstorm's own image unless LAGSTORM_IMAGE_<ROLE> names another", () => {
    expect(imageFor('postgres', {})).toBe(IMAGES.postgres);
    expect(imageFor('postgres', { LAGSTORM_IMAGE_POSTGRES: 'registry.example/pg:15' })).toBe('registry.example/pg:15');
    expect(imageFor('reference-backend', { LAGSTORM_IMAGE_REFERENCE_BACKEND: 'studio/backend:1' })).toBe('studio/backend:1');
    expect(IMAGES.toxiproxy).toBe('lagstorm/toxiproxy:2.12.0');
  });
});
