/* Table-driven CRC-32 (see suite_kernels.crc32_table). */
#include <stdint.h>

int64_t crc32_table(const uint8_t *data, const uint32_t *table, int64_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (int64_t i = 0; i < n; i++)
        crc = (crc >> 8) ^ table[(crc ^ data[i]) & 0xFF];
    return (int64_t)(crc ^ 0xFFFFFFFFu);
}
