#!/usr/bin/env python3
"""Generates a units CSV and an accounts CSV of N officials with Vietnamese names (many
collisions, as in a real province): gen_csv.py N UNITS_OUT ACCOUNTS_OUT [SEED]."""
import random
import sys

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Quang", "Thu", "Minh", "Đức", "Hữu", "Ngọc", "Thanh", "Xuân", "Công",
          "Thành", "Kim", "Bảo", "Gia", "Anh"]
GIVEN = ["Vinh", "Hương", "Đức", "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh",
         "Hiếu", "Hoa", "Hùng", "Huy", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga",
         "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt", "Yến"]
POSITIONS = ["Chủ tịch", "Phó Chủ tịch", "Chuyên viên", "Kế toán", "Văn thư", "Công chức"]


def main():
    n, units_out, accounts_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 2025)
    communes = [f"27{i:03d}" for i in range(1, 100)]
    with open(units_out, "w", encoding="utf-8") as f:
        f.write("code,name,parent_code\n27,Tỉnh Bắc Ninh,\n")
        for code in communes:
            f.write(f"{code},Xã số {code[2:]},27\n")
    with open(accounts_out, "w", encoding="utf-8") as f:
        f.write("full_name,unit_code,position\n")
        for _ in range(n):
            words = [rnd.choice(SURNAMES)] + rnd.sample(MIDDLE, rnd.choice((1, 1, 2))) + \
                [rnd.choice(GIVEN)]
            f.write(f"{' '.join(words)},{rnd.choice(communes)},{rnd.choice(POSITIONS)}\n")


main()
