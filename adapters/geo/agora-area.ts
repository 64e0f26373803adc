/**
 * The Agora area a client should connect through, from its country: the SDK's `areaCode` values (NA, EU,
 * AS, JP, IN, CN; GLOB lets Agora choose). A hint for the client's RTC setup, never a restriction.
 */
const AREAS: Record<string, readonly string[]> = {
  NA: ['US', 'CA', 'MX'],
  EU: ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
    'GB', 'NO', 'CH', 'IS', 'UA', 'RS', 'BA', 'AL', 'MK', 'ME', 'MD'],
  JP: ['JP'],
  IN: ['IN'],
  CN: ['CN'],
  AS: ['NP', 'BD', 'PK', 'LK', 'BT', 'MV', 'KR', 'TW', 'HK', 'MO', 'SG', 'MY', 'TH', 'VN', 'PH', 'ID', 'KH', 'LA', 'MM', 'MN', 'AE', 'SA', 'QA', 'KW', 'BH', 'OM', 'IL', 'JO', 'TR'],
};
const BY_COUNTRY = new Map(Object.entries(AREAS).flatMap(([area, countries]) => countries.map((c) => [c, area] as const)));

export function agoraAreaOf(country: string | null): string {
  return (country && BY_COUNTRY.get(country)) || 'GLOB';
}
